package gateway

import (
	"encoding/json"
	"hash/maphash"
	"net/http"
	"slices"
)

// chargeStore holds every charge made, oldest first, in a form the garbage collector does not
// have to scan. The sandbox runs this simulator in the saga's own process: whatever each charge
// leaves on the heap is marked again by every collection for the rest of the run, so with a
// Charge struct (seven strings) and its answer kept per key, mark phases and the saga's latency
// grew with history. Here a charge is a pointer-free record plus its bytes in a shared arena, and
// the index by key hashes the key instead of holding it: no part of a charge holds a pointer.
//
// A record keeps what the hot path needs as is: the answer's status and body, replayed byte for
// byte, and the params a repeated key must match. The Charge itself is decoded from the body on
// the rare paths that need it (listings, refunds, key status).
type chargeStore struct {
	records []chargeRecord
	arena   [][]byte // chunks of chunkSize bytes, appended to and never changed
	seed    maphash.Seed
	// byHash maps the hash of a key to its newest record, whose older field continues the
	// chain of records whose keys have that hash: usually none, as keys rarely collide.
	byHash map[uint64]int32
}

// chunkSize is the size of an arena chunk: large enough that the chunks are few objects for the
// collector, small enough that the last one's unused tail does not matter.
const chunkSize = 1 << 20

// chargeRecord is one charge. Its data, in the arena, is the answer's body, then the params'
// currency and payment method, the charge id and the idempotency key; the *End fields are
// offsets in data where each part ends.
type chargeRecord struct {
	chunk, off                                   uint32 // data starts at arena[chunk][off]
	bodyEnd, currencyEnd, methodEnd, idEnd, size uint32
	status                                       int32 // the answer's HTTP status
	amount                                       int64 // the params' amount, which a repeat must match
	// older is the next older record whose key has the same hash, or -1.
	older int32
}

func newChargeStore() chargeStore {
	return chargeStore{seed: maphash.MakeSeed(), byHash: map[uint64]int32{}}
}

// add appends the charge of e, a complete kindCharge entry. A key is charged once (a request
// repeating it replays the answer), but a journal that records a key twice keeps both charges,
// as it always did: the newest answers the key, and SuccessfulCharges counts both.
func (cs *chargeStore) add(e entry) {
	p, id := e.Params, e.Charge.ID
	size := len(e.Body) + len(p.Currency) + len(p.PaymentMethod) + len(id) + len(e.Key)
	last := len(cs.arena) - 1
	if last < 0 || len(cs.arena[last])+size > cap(cs.arena[last]) {
		cs.arena = append(cs.arena, make([]byte, 0, max(chunkSize, size)))
		last++
	}
	chunk := cs.arena[last]
	r := chargeRecord{chunk: uint32(last), off: uint32(len(chunk)), status: int32(e.Status), amount: p.Amount}
	chunk = append(chunk, e.Body...)
	r.bodyEnd = uint32(len(chunk)) - r.off
	chunk = append(chunk, p.Currency...)
	r.currencyEnd = uint32(len(chunk)) - r.off
	chunk = append(chunk, p.PaymentMethod...)
	r.methodEnd = uint32(len(chunk)) - r.off
	chunk = append(chunk, id...)
	r.idEnd = uint32(len(chunk)) - r.off
	chunk = append(chunk, e.Key...)
	r.size = uint32(len(chunk)) - r.off
	cs.arena[last] = chunk

	h := maphash.String(cs.seed, e.Key)
	r.older = -1
	if i, ok := cs.byHash[h]; ok {
		r.older = i
	}
	cs.byHash[h] = int32(len(cs.records))
	cs.records = append(cs.records, r)
}

func (cs *chargeStore) len() int { return len(cs.records) }

// data returns the bytes of record i. They are never changed, and the slice's capacity ends
// with them, so callers may hand them out.
func (cs *chargeStore) data(i int) []byte {
	r := &cs.records[i]
	return cs.arena[r.chunk][r.off : r.off+r.size : r.off+r.size]
}

func (cs *chargeStore) key(i int) []byte {
	r := &cs.records[i]
	return cs.data(i)[r.idEnd:]
}

// lookup returns the newest record charged with key.
func (cs *chargeStore) lookup(key string) (int, bool) {
	i, ok := cs.byHash[maphash.String(cs.seed, key)]
	for ; ok && i >= 0; i = cs.records[i].older {
		if string(cs.key(int(i))) == key {
			return int(i), true
		}
	}
	return 0, false
}

// charged returns the records charged with key, oldest first: one, or none for a key never
// charged (see add).
func (cs *chargeStore) charged(key string) []int {
	var idx []int
	i, ok := cs.byHash[maphash.String(cs.seed, key)]
	for ; ok && i >= 0; i = cs.records[i].older {
		if string(cs.key(int(i))) == key {
			idx = append(idx, int(i))
		}
	}
	slices.Reverse(idx)
	return idx
}

// answer returns record i's stored answer, to replay.
func (cs *chargeStore) answer(i int) (status int, body []byte) {
	r := &cs.records[i]
	return int(r.status), cs.data(i)[:r.bodyEnd:r.bodyEnd]
}

// matches reports whether p repeats the params record i was charged with: same amount,
// currency and payment method (the description may differ).
func (cs *chargeStore) matches(i int, p ChargeParams) bool {
	r, d := &cs.records[i], cs.data(i)
	return p.Amount == r.amount && p.Currency == string(d[r.bodyEnd:r.currencyEnd]) &&
		p.PaymentMethod == string(d[r.currencyEnd:r.methodEnd])
}

// id returns record i's charge id.
func (cs *chargeStore) id(i int) []byte {
	r := &cs.records[i]
	return cs.data(i)[r.methodEnd:r.idEnd]
}

// charge decodes record i's Charge from its answer: the body of a 201 is the Charge, that of a
// 402 a Declined holding it. The body is JSON the gateway encoded from that very Charge (or read
// back from its own journal), so it decodes to the same fields.
func (cs *chargeStore) charge(i int) Charge {
	status, body := cs.answer(i)
	if status == http.StatusCreated {
		var ch Charge
		_ = json.Unmarshal(body, &ch)
		return ch
	}
	var d Declined
	_ = json.Unmarshal(body, &d)
	return d.Charge
}
