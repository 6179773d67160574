package sqldb_test

import (
	"reflect"
	"testing"

	"github.com/edmshop/edm-shop/platform/sqldb"
)

func TestInListPadsToAPowerOfTwo(t *testing.T) {
	tests := []struct {
		values   []string
		wantIn   string
		wantArgs []any
	}{
		{[]string{"a"}, "(?)", []any{"a"}},
		{[]string{"a", "b"}, "(?, ?)", []any{"a", "b"}},
		{[]string{"a", "b", "c"}, "(?, ?, ?, ?)", []any{"a", "b", "c", "c"}},
		{[]string{"a", "b", "c", "d", "e"}, "(?, ?, ?, ?, ?, ?, ?, ?)", []any{"a", "b", "c", "d", "e", "e", "e", "e"}},
	}
	for _, tt := range tests {
		in, args := sqldb.InList(tt.values)
		if in != tt.wantIn || !reflect.DeepEqual(args, tt.wantArgs) {
			t.Errorf("InList(%v) = %q %v, want %q %v", tt.values, in, args, tt.wantIn, tt.wantArgs)
		}
	}
}
