package fleet

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Publish sends msg to every replica subscribed to channel, this one included. An error
// means Redis did not take it: the caller delivers in process instead.
func (s *Store) Publish(ctx context.Context, channel string, msg []byte) error {
	return s.call(ctx, func(ctx context.Context, r *redis.Client) error {
		return r.Publish(ctx, s.key("chan", channel), msg).Err()
	})
}

// Subscribe calls fn with every message published on channel until ctx ends. go-redis
// resubscribes after a lost connection by itself; messages published meanwhile are lost,
// as pub/sub promises no more.
func (s *Store) Subscribe(ctx context.Context, channel string, fn func([]byte)) {
	ps := s.rdb.Subscribe(context.WithoutCancel(ctx), s.key("chan", channel))
	go func() {
		<-ctx.Done()
		_ = ps.Close()
	}()
	go func() {
		for m := range ps.Channel(redis.WithChannelHealthCheckInterval(10 * time.Second)) {
			fn([]byte(m.Payload))
		}
	}()
}

// Claim marks key as taken for ttl and reports whether this call took it (SET NX): the
// first replica to claim an event id processes it. ok is false when Redis did not answer;
// the caller decides in process then.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (first, ok bool) {
	err := s.call(ctx, func(ctx context.Context, r *redis.Client) error {
		var err error
		first, err = r.SetNX(ctx, s.key("claim", key), 1, ttl).Result()
		return err
	})
	return first, err == nil
}
