package telemetry

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FleetObserver returns what reports the fleet's Redis state to /metrics:
// fleet_redis_shared (1 shared, 0 local) and fleet_redis_state_changes_total.
func (t *T) FleetObserver() func(shared bool) {
	shared := prometheus.NewGauge(prometheus.GaugeOpts{Name: "fleet_redis_shared",
		Help: "1 while the fleet's state (rate budget, pauses, cache, persisted queries) is shared on Redis, 0 while this replica runs on its local fallbacks."})
	changes := prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_redis_state_changes_total",
		Help: "Switches between shared (Redis) and local mode."})
	t.registry.MustRegister(shared, changes)
	var reported atomic.Bool // the first report is the starting state, not a change
	return func(s bool) {
		if s {
			shared.Set(1)
		} else {
			shared.Set(0)
		}
		if reported.Swap(true) {
			changes.Inc()
		}
	}
}

// FleetCheck is a readiness check that fails once the replica has run without Redis for
// longer than grace: a moment's outage costs no request, but a replica cut off from the
// fleet's budget for long should leave rotation to the replicas that still share it.
func FleetCheck(localFor func() time.Duration, grace time.Duration) Check {
	return Check{Name: "redis", Run: func(context.Context) error {
		if d := localFor(); d > grace {
			return fmt.Errorf("local mode for %v: Redis unreachable", d.Round(time.Second))
		}
		return nil
	}}
}
