package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

var clusterStatus = command{
	name: "cluster status", maxArgs: 0,
	doc: "show the nodes (roles, heartbeat, listeners), which node serves each store at which epoch, and the queue depth",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		if c.env.Cluster == nil {
			return explain(errNotClustered, "this config is not a cluster's: set [cluster] secret and the postgres engines")
		}
		st, err := c.env.Cluster(ctx)
		if err != nil {
			return err
		}
		for _, n := range st.Nodes {
			state := "up"
			if !n.Alive {
				state = "down"
			}
			line := fmt.Sprintf("node %s roles=%s %s heartbeat=%s", n.Name, strings.Join(n.Roles, ","), state, ago(n.Heartbeat))
			for _, proto := range slices.Sorted(maps.Keys(n.Endpoints)) {
				line += " " + proto + "=" + n.Endpoints[proto]
			}
			c.println(line)
		}
		for _, l := range st.Leases {
			switch {
			case l.Valid:
				c.println(fmt.Sprintf("store %s served-by=%s epoch=%d expires-in=%s", l.Store, l.Holder, l.Epoch, l.Expires))
			case l.Holder == "":
				c.println(fmt.Sprintf("store %s unserved epoch=%d never-held", l.Store, l.Epoch))
			default:
				c.println(fmt.Sprintf("store %s unserved epoch=%d last-holder=%s expired=%s", l.Store, l.Epoch, l.Holder, ago(-l.Expires)))
			}
		}
		q, err := c.openQueue(ctx)
		if err != nil {
			return err
		}
		s, err := q.Stats(ctx)
		if err != nil {
			return err
		}
		oldest := "-"
		if !s.Oldest.IsZero() {
			oldest = ago(c.env.Now().Sub(s.Oldest).Round(time.Second))
		}
		c.println(fmt.Sprintf("queue messages=%d recipients=%d held=%d failed=%d oldest=%s", s.Messages, s.Recipients, s.Held, s.Failed, oldest))
		return nil
	},
}

var errNotClustered = errors.New("not a cluster")

func ago(d time.Duration) string { return d.String() + "-ago" }
