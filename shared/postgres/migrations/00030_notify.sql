-- +goose Up
-- Notify (functions/notify, docs/notify.md).

-- A failure no retry can fix (bad address, rejected payload, channel not
-- configured, nobody on duty): a redelivered event does not try it again.
ALTER TABLE notification_log ADD COLUMN permanent boolean NOT NULL DEFAULT false;

-- Deliveries not sent yet: what a redelivery re-claims and what operators look at.
CREATE INDEX notification_log_unsent ON notification_log (updated_at) WHERE status <> 'sent';

-- One user's in-app list, newest first (notifications_unread covers only unread rows).
CREATE INDEX notifications_recipient_created ON notifications (recipient, created_at DESC, id DESC);

-- +goose Down
DROP INDEX notifications_recipient_created;
DROP INDEX notification_log_unsent;
ALTER TABLE notification_log DROP COLUMN permanent;
