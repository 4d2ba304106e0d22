package main

import (
	"context"

	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/retention"
)

// centralTrace carries what trace needs from the central store after the
// query: each call's box and the calls themselves for their paths.
type centralTrace struct {
	client *central.Client
	calls  []central.CallResult
}

// traceQuery runs q on the local store (data) or the central one (dsn).
// Both answer with retention.CallResults, so trace renders them the same.
func traceQuery(data, dsn, box string, q retention.Query) ([]retention.CallResult, *centralTrace, error) {
	if dsn == "" {
		st, err := retention.Open(data, retention.Options{ReadOnly: true})
		if err != nil {
			return nil, nil, err
		}
		calls, err := st.QueryCalls(q)
		return calls, nil, err
	}
	o, err := central.ParseDSN(dsn)
	if err != nil {
		return nil, nil, err
	}
	c, err := central.Open(context.Background(), o)
	if err != nil {
		return nil, nil, err
	}
	found, err := c.QueryCalls(context.Background(), central.Query{Query: q, Box: box})
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	calls := make([]retention.CallResult, len(found))
	for i := range found {
		calls[i] = found[i].CallResult
	}
	return calls, &centralTrace{client: c, calls: found}, nil
}

// centralDetails adds the box and the path across boxes to each call.
func centralDetails(ct *centralTrace, out []traceCall) error {
	defer ct.client.Close()
	for i := range out {
		out[i].Box = ct.calls[i].Box
		hops, err := ct.client.Path(context.Background(), ct.calls[i].Call, central.DefaultPathWindow)
		if err != nil {
			return err
		}
		if len(hops) > 1 {
			out[i].Path = hops
		}
	}
	return nil
}
