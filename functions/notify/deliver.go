package notify

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/notify"
)

// outcome of one delivery in one handling of an event.
type outcome int

const (
	sent            outcome = iota // sent now
	alreadyDone                    // sent (or permanently failed) by an earlier delivery of the event
	failedPermanent                // failed; retrying cannot help
	failedRetry                    // failed for now; a redelivery tries again
	busy                           // another handler holds the claim right now
)

func (o outcome) String() string {
	return [...]string{"sent", "already done", "failed permanently", "failed, will retry", "in progress elsewhere"}[o]
}

// deliverAll runs the deliveries, a few at a time.
func (f *Function) deliverAll(ctx context.Context, s *subject, ds []delivery, msg notify.Message) []outcome {
	out := make([]outcome, len(ds))
	sem := make(chan struct{}, f.retry.Parallel)
	var wg sync.WaitGroup
	for i := range ds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = f.deliver(ctx, s, ds[i], msg)
		}()
	}
	wg.Wait()
	return out
}

// deliver claims the (event, channel, recipient) row, sends with bounded
// retries and records the result. The claim is the dedupe: a row already
// 'sent', or 'failed' permanently, is never attempted again; a 'pending' row
// is another handler's until its claim goes stale (ClaimTTL), which is how an
// attempt that crashed mid-send gets retried.
func (f *Function) deliver(ctx context.Context, s *subject, d delivery, msg notify.Message) outcome {
	log := f.log.With("event", s.id, "type", s.ceType, "channel", d.channel, "recipient", d.recipient)
	id, claimed, state, err := f.claim(ctx, s, d, msg)
	if err != nil {
		log.ErrorContext(ctx, "notify: cannot claim the delivery", "err", f.scrub(err.Error()))
		return failedRetry
	}
	if !claimed {
		switch state {
		case "sent":
			log.InfoContext(ctx, "notify: already sent; not sending again")
			return alreadyDone
		case "failed":
			log.InfoContext(ctx, "notify: already failed permanently; not retrying")
			return alreadyDone
		}
		log.InfoContext(ctx, "notify: another handler is sending this right now")
		return busy
	}
	// Bookkeeping must land even when the request's context is cancelled
	// mid-send, or the row would look in progress until its claim expires.
	book := func(sql string, args ...any) {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := f.db.Exec(bctx, sql, args...); err != nil {
			log.ErrorContext(ctx, "notify: cannot record the delivery", "err", f.scrub(err.Error()))
		}
	}
	if d.cannot != "" {
		book(`UPDATE notification_log SET status = 'failed', permanent = true, error = $2, updated_at = now() WHERE id = $1`, id, d.cannot)
		log.WarnContext(ctx, "notify: cannot deliver", "err", d.cannot)
		return failedPermanent
	}
	wait := f.retry.Backoff
	for attempt := 1; ; attempt++ {
		retry, err := d.notifier.Notify(ctx, d.recipient, msg)
		if err == nil {
			book(`UPDATE notification_log SET status = 'sent', attempts = attempts + 1, error = '', permanent = false,
				sent_at = now(), updated_at = now() WHERE id = $1`, id)
			log.InfoContext(ctx, "notify: sent", "attempt", attempt)
			return sent
		}
		text := f.scrub(err.Error())
		if !retry {
			book(`UPDATE notification_log SET status = 'failed', attempts = attempts + 1, error = $2, permanent = true,
				updated_at = now() WHERE id = $1`, id, text)
			log.WarnContext(ctx, "notify: failed permanently", "attempt", attempt, "err", text)
			return failedPermanent
		}
		if attempt >= f.retry.Attempts || ctx.Err() != nil {
			book(`UPDATE notification_log SET status = 'failed', attempts = attempts + 1, error = $2, permanent = false,
				updated_at = now() WHERE id = $1`, id, text)
			log.WarnContext(ctx, "notify: failed; the broker will redeliver", "attempt", attempt, "err", text)
			return failedRetry
		}
		// Still ours: count the attempt and refresh the claim.
		book(`UPDATE notification_log SET attempts = attempts + 1, error = $2, updated_at = now() WHERE id = $1`, id, text)
		log.InfoContext(ctx, "notify: attempt failed; retrying", "attempt", attempt, "in", wait.String(), "err", text)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// claim inserts the row as 'pending', or takes over a row that failed
// retryably or whose claim is stale. When it does not claim, state is the
// row's status ('sent', 'failed' for a permanent failure, 'pending' in flight).
func (f *Function) claim(ctx context.Context, s *subject, d delivery, msg notify.Message) (id int64, claimed bool, state string, err error) {
	err = f.db.QueryRow(ctx, `INSERT INTO notification_log AS l (event_id, event_type, channel, recipient, subject, body, status)
		VALUES ($1, $2, $3, $4, $5, $6, 'pending')
		ON CONFLICT (event_id, channel, recipient) DO UPDATE
			SET status = 'pending', updated_at = now(), subject = EXCLUDED.subject, body = EXCLUDED.body
			WHERE (l.status = 'failed' AND NOT l.permanent)
			   OR (l.status = 'pending' AND l.updated_at < now() - make_interval(secs => $7))
		RETURNING l.id`,
		s.id, s.ceType, d.channel, d.recipient, msg.Title, msg.Text, f.retry.ClaimTTL.Seconds()).Scan(&id)
	if err == nil {
		return id, true, "pending", nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, "", err
	}
	err = f.db.QueryRow(ctx, `SELECT id, status FROM notification_log WHERE event_id = $1 AND channel = $2 AND recipient = $3`,
		s.id, d.channel, d.recipient).Scan(&id, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		// Deleted between the two statements: let the redelivery start over.
		return 0, false, "pending", nil
	}
	return id, false, state, err
}
