package fleet

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Get returns the bytes stored under key. Any failure is a miss: the caller fetches as if
// nothing were shared.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool) {
	var b []byte
	err := s.call(ctx, func(ctx context.Context, r *redis.Client) (err error) {
		b, err = r.Get(ctx, s.key("kv", key)).Bytes()
		return err
	})
	return b, err == nil
}

// Set stores val under key for ttl. A failure loses nothing but the sharing.
func (s *Store) Set(ctx context.Context, key string, val []byte, ttl time.Duration) {
	_ = s.call(ctx, func(ctx context.Context, r *redis.Client) error {
		return r.Set(ctx, s.key("kv", key), val, ttl).Err()
	})
}

// Delete removes keys, e.g. what a write or an event made stale.
func (s *Store) Delete(ctx context.Context, keys ...string) {
	if len(keys) == 0 {
		return
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = s.key("kv", k)
	}
	_ = s.call(ctx, func(ctx context.Context, r *redis.Client) error { return r.Del(ctx, full...).Err() })
}
