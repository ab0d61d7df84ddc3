-- Schema version 7 is the effects outbox's (another branch adds it). This file only keeps the
-- numbers 1..n on a branch without it, so that 0008 can be applied and tested; when the two
-- branches meet, the outbox's 0007 replaces this file (drop it), and nothing in 0008 needs it.
SELECT 1;
