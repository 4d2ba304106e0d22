package central

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gatewarden/gatewarden/retention"
)

// The central store as external witness: it keeps the manifest hash of every
// partition each box shipped. A box whose local chain was rewritten —
// however consistently, so that its own verification passes — no longer
// holds those hashes.

// WitnessResult is what VerifyAgainst found.
type WitnessResult struct {
	Box     string `json:"box"`
	Shipped int    `json:"shipped"` // partitions the central store holds manifests of
	Matched int    `json:"matched"` // present locally with the same manifest hash
	Removed int    `json:"removed"` // removed by retention, logged with the same hash
	// Checkpoints is the number of signed checkpoints of the box the central
	// store holds, each checked with retention.VerifyCheckpoints.
	Checkpoints int                 `json:"checkpoints"`
	Problems    []retention.Problem `json:"problems"` // "diverged" (manifests), or the checkpoint checks' kinds
}

// OK reports whether the local chain extends everything shipped.
func (w *WitnessResult) OK() bool { return len(w.Problems) == 0 }

// VerifyAgainst checks that the store in dir still holds (or logged the
// removal of) every partition box shipped, with the manifest hash shipped.
func (c *Client) VerifyAgainst(ctx context.Context, dir, box string) (*WitnessResult, error) {
	res := &WitnessResult{Box: box, Problems: []retention.Problem{}}
	rows, err := c.conn.Query(ctx, fmt.Sprintf("SELECT DISTINCT seq, manifest FROM %s.manifests WHERE box = %s ORDER BY seq",
		c.opt.Database, sqlString(box)))
	if err != nil {
		return nil, fmt.Errorf("central: manifests: %w", err)
	}
	defer rows.Close()
	removals, err := retention.Removals(dir)
	if err != nil {
		return nil, err
	}
	removed := map[uint32]string{}
	for _, r := range removals {
		removed[r.Seq] = r.Manifest
	}
	add := func(seq uint32, format string, a ...any) {
		res.Problems = append(res.Problems, retention.Problem{Seq: seq, Kind: "diverged", Detail: fmt.Sprintf(format, a...)})
	}
	shipped := map[uint32][]string{}
	var order []uint32
	for rows.Next() {
		var seq uint32
		var h string
		if err := rows.Scan(&seq, &h); err != nil {
			return nil, err
		}
		if shipped[seq] == nil {
			order = append(order, seq)
		}
		shipped[seq] = append(shipped[seq], h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := c.verifyCheckpoints(ctx, dir, box, res); err != nil {
		return nil, err
	}
	for _, seq := range order {
		res.Shipped++
		hs := shipped[seq]
		if len(hs) > 1 {
			add(seq, "the box shipped %d different manifests for this partition", len(hs))
			continue
		}
		want := hs[0]
		got, err := retention.ManifestHash(dir, seq)
		switch {
		case err == nil && got == want:
			res.Matched++
		case err == nil:
			add(seq, "local manifest %s is not the one shipped (%s): the chain was rewritten", short(got), short(want))
		case errors.Is(err, os.ErrNotExist) && removed[seq] == want:
			res.Removed++
		case errors.Is(err, os.ErrNotExist) && removed[seq] != "":
			add(seq, "removal logged with manifest %s, shipped %s", short(removed[seq]), short(want))
		case errors.Is(err, os.ErrNotExist):
			add(seq, "shipped (manifest %s) but gone from the box, and no removal is logged", short(want))
		default:
			return nil, err
		}
	}
	return res, nil
}

func short(h string) string { return h[:min(16, len(h))] }

// verifyCheckpoints checks the store against the signed checkpoints the
// central store holds for box: still contains and extends every one of them
// (the store engineer's retention.VerifyCheckpoints).
func (c *Client) verifyCheckpoints(ctx context.Context, dir, box string, res *WitnessResult) error {
	rows, err := c.conn.Query(ctx, fmt.Sprintf("SELECT DISTINCT n, line FROM %s.checkpoints WHERE box = %s ORDER BY n",
		c.opt.Database, sqlString(box)))
	if err != nil {
		return fmt.Errorf("central: checkpoints: %w", err)
	}
	defer rows.Close()
	var lines strings.Builder
	for rows.Next() {
		var n uint64
		var line string
		if err := rows.Scan(&n, &line); err != nil {
			return err
		}
		lines.WriteString(line)
		lines.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		return err
	}
	cps, err := retention.ReadCheckpoints(strings.NewReader(lines.String()))
	if err != nil {
		return fmt.Errorf("central: checkpoints of box %s: %w", box, err)
	}
	res.Checkpoints = len(cps)
	problems, err := retention.VerifyCheckpoints(dir, cps)
	if err != nil {
		return err
	}
	res.Problems = append(res.Problems, problems...)
	return nil
}
