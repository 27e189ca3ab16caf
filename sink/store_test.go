package sink

import (
	"testing"

	"github.com/lakerelay/lakerelay/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestDirStoreConformance(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		s, err := NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestS3StoreConformance(t *testing.T) {
	m := testenv.StartMinIO(t)
	client := m.S3(t)
	testStore(t, func(t *testing.T) Store {
		s, err := NewS3(client, m.NewBucket(t), func(o *S3Options) { o.PartSize = 5 << 20 })
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
