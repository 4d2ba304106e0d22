package analysis

import (
	"reflect"
	"testing"
)

// fillNonZero sets every field of v (a struct) to a non-zero value, so a
// field the saved state forgets shows up as a difference.
func fillNonZero(v reflect.Value, seed int) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("s" + string(rune('a'+(i+seed)%26)))
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(1000 + i + seed))
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(uint64(1 + (i+seed)%200))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Pointer:
			p := reflect.New(f.Type().Elem())
			fillNonZero(p.Elem(), seed+i)
			f.Set(p)
		case reflect.Slice:
			s := reflect.MakeSlice(f.Type(), 2, 2)
			for j := 0; j < 2; j++ {
				fillNonZero(s.Index(j), seed+i+j)
			}
			f.Set(s)
		default:
			panic("fillNonZero: unhandled kind " + f.Kind().String() + " of Call." + v.Type().Field(i).Name)
		}
	}
}

// Every field of a call in progress survives AppendState/RestoreState: a
// field added to Call and not to the saved state fails here.
func TestAssemblerStateKeepsEveryCallField(t *testing.T) {
	a := NewAssembler(AssemblerConfig{})
	var b msgBuilder
	a.Feed(b.iam(1e9, true, 7, "13800138000", "2088881234"))
	var oc *openCall
	for _, o := range a.open {
		oc = o
	}
	fillNonZero(reflect.ValueOf(&oc.call).Elem(), 0)
	oc.call.Generic = oc.generic[:2]
	fillNonZero(reflect.ValueOf(&oc.generic[0]).Elem(), 1)
	fillNonZero(reflect.ValueOf(&oc.generic[1]).Elem(), 2)
	oc.call.Outcome, oc.call.ReleasedBy, oc.call.Direction = OutcomeOpen, SideCalled, DirectionEgress
	want := oc.call

	r := NewAssembler(AssemblerConfig{})
	if err := r.RestoreState(a.AppendState(nil)); err != nil {
		t.Fatal(err)
	}
	var got *Call
	r.EachOpen(func(c *Call) { got = c })
	if got == nil || !reflect.DeepEqual(*got, want) {
		t.Errorf("restored call\n%+v\nwant\n%+v", got, want)
	}
	if r.OpenCalls() != 1 || r.Stats() != a.Stats() {
		t.Errorf("restored %d calls, stats %+v want %+v", r.OpenCalls(), r.Stats(), a.Stats())
	}
}
