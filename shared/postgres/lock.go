package postgres

import (
	"fmt"

	"github.com/pressly/goose/v3/lock"
)

// migrationLockID is the advisory lock key that serializes migrations across replicas.
const migrationLockID = 0x656c6173 // "elas"

func newLocker() (lock.SessionLocker, error) {
	l, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID))
	if err != nil {
		return nil, fmt.Errorf("postgres: migration locker: %w", err)
	}
	return l, nil
}
