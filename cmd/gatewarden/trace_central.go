package main

import (
	"context"

	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/retention"
)

// traced is what trace found in an archive (the box's store or the central
// one): the calls, and the archive for their paths.
type traced struct {
	archive central.Archive
	calls   []central.CallResult
}

// traceCentral runs q on the central store at dsn.
func traceCentral(dsn, box string, q retention.Query) ([]retention.CallResult, *traced, error) {
	ctx := context.Background()
	a, err := central.OpenArchive(ctx, "", dsn, "")
	if err != nil {
		return nil, nil, err
	}
	found, err := a.Calls(ctx, central.Query{Query: q, Box: box})
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	calls := make([]retention.CallResult, len(found))
	for i := range found {
		calls[i] = found[i].CallResult
	}
	return calls, &traced{archive: a, calls: found}, nil
}

// details adds each call's box and its path across boxes.
func (tr *traced) details(out []traceCall) error {
	for i := range out {
		out[i].Box = tr.calls[i].Box
		hops, err := tr.archive.Path(context.Background(), tr.calls[i].Call, central.DefaultPathWindow)
		if err != nil {
			return err
		}
		if len(hops) > 1 {
			out[i].Path = hops
		}
	}
	return nil
}
