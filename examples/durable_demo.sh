#!/bin/sh
# The durable demo (`make run`): every method end to end on the embedded SQLite store
# (.linkflow/linkflow.db, started afresh), each event sent by its own `linkflow send` process,
# so everything an instance knows comes back from the store. Then its status and the feed.
set -eu
LINKFLOW=${LINKFLOW:-linkflow}
ENTRY=workflows/link_tiktok_account.yaml
DATA='{"actor": "ana", "business_center": "acme_brands", "ad_account": "acme_us", "campaign": "spring_sale"}'

rm -f .linkflow/linkflow.db .linkflow/linkflow.db-wal .linkflow/linkflow.db-shm
$LINKFLOW world load workflows/worlds/ads_manager_demo.yaml

# method TITLE EVENT...: start the entry workflow, send each event to whichever instance runs
# the session now (the entry workflow hands over to the method's), then show where it ended.
method() {
  echo; echo "== Durable: $1"; shift
  id=$($LINKFLOW start $ENTRY --data "$DATA")
  for event in click_link_tiktok_account "$@"; do
    $LINKFLOW send "$id" "$event"   # delivered to the session's current instance
  done
  $LINKFLOW status "$id"
}

method "Link existing: select from your Business Center" \
  choose_link_existing choose_select_from_business_center \
  'select={"tiktok_account": "acme_outlet"}' confirm refresh
method "Link existing: log in to an existing TikTok account" \
  choose_link_existing choose_log_in confirm \
  'log_in={"username": "ana_cooks", "password": "open-sesame-42"}' approve refresh
method "Link existing: link with QR code" \
  choose_link_existing choose_qr_code confirm \
  'approve={"tiktok_account": "mia_makes", "user": "mia"}' refresh
method "Create new: organization-owned TikTok account" \
  choose_create_new 'choose_create_option={"option": "organization_owned"}' confirm \
  'create={"nickname": "Acme Careers", "region": "Singapore", "username": "acme_careers"}' refresh
method "Create new: sign up for a new TikTok account" \
  choose_create_new 'choose_create_option={"option": "sign_up"}' confirm \
  'sign_up={"username": "acme_fresh", "nickname": "Acme Fresh", "password": "Fresh-Start-2026"}' \
  approve refresh

echo; echo "== The change feed: every accepted step, in commit order"
$LINKFLOW feed
echo; echo "== Timeouts due now (none: every method finished)"
$LINKFLOW timers run --until-idle
