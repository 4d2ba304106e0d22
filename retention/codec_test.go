package retention

import (
	"reflect"
	"testing"

	"github.com/gatewarden/gatewarden/analysis"
)

// Records written before the transit and origin fields existed end after the
// message count (calls) or the detail (alerts): they must still read back.
func TestCallAndAlertRecordsBackwardCompatible(t *testing.T) {
	c := &analysis.Call{ID: "1:2:3", Start: 5e9, Answer: 6e9, Release: 9e9, Partner: "p", Link: "l",
		Calling: &analysis.PartyNumber{Digits: "85291234567", NAI: 4}, Messages: 4}
	old := appendCall(nil, c)
	old = old[:len(old)-4] // the three empty strings and the absent SIP header number of the new fields
	got, err := decodeCall(old)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("old call record: %+v, %v", got, err)
	}
	c.TransitOf, c.TransitTo, c.OriginCountry = "1:1:1", "1:9:9", "HK"
	got, err = decodeCall(appendCall(nil, c))
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("new call record: %+v, %v", got, err)
	}

	a := &analysis.Alert{TS: 5e9, Rule: "cli.missing", CallID: "1:2:3", Detail: "d"}
	oldA := appendAlert(nil, a)
	oldA = oldA[:len(oldA)-2]
	gotA, err := decodeAlert(oldA)
	if err != nil || !reflect.DeepEqual(gotA, a) {
		t.Fatalf("old alert record: %+v, %v", gotA, err)
	}
	a.OriginCountry, a.Link = "HK", "1.1.1.1:2905>2.2.2.2:2905"
	gotA, err = decodeAlert(appendAlert(nil, a))
	if err != nil || !reflect.DeepEqual(gotA, a) {
		t.Fatalf("new alert record: %+v, %v", gotA, err)
	}
}
