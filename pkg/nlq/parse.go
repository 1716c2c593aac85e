package nlq

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Parse turns a question into a validated typed query without a model. now
// is when the question is asked, in the asker's time zone: it fixes "today",
// "yesterday" and "since 9am". Names are matched against cat. A question
// with words that matter but are not understood (an unknown service, "by
// region") yields a *NotUnderstoodError naming them; filler words are
// ignored.
func Parse(question string, cat Catalog, now time.Time) (*Plan, error) {
	if len(question) > MaxQuestionLen {
		return nil, &NotUnderstoodError{Reason: fmt.Sprintf("the question is longer than %d characters", MaxQuestionLen),
			Hint: "Ask one short question, e.g. \"errors in checkout in the last hour\"."}
	}
	idx := indexOf(cat)
	// Whole seconds keep the absolute windows of the typed query readable.
	now = now.Truncate(time.Second)
	p := &parser{toks: tokenize(question), now: now, services: idx.services, operations: idx.operations}
	p.scan()
	return p.build(question)
}

// parser holds what the words of a question asked for; build turns it into
// a typed query.
type parser struct {
	toks                 []token
	now                  time.Time
	services, operations *nameIndex

	unknown    []string
	notes      []string // names corrected from typos
	understood int      // recognized words that are not filler

	logs, spans       bool
	spanOnly, logOnly []string // words that need one signal, for conflict messages
	errorsWanted      bool
	warningsWanted    bool
	successWanted     bool
	named, excluded   []string // services
	operation         *signalstore.Filter
	durations         []signalstore.Filter
	contains          []string
	kind              string
	other             []signalstore.Filter // ids and attributes
	latency           bool
	latencyFuncs      []signalstore.AggFunc
	count, rate       bool
	errorRate         bool
	groups            []signalstore.GroupBy
	groupSingular     bool
	interval          time.Duration
	autoInterval      bool
	order             sortKind
	slow              bool
	limit             int
	oldestFirst       bool
	timeSet           bool
	lookup            bool // a trace or correlation id is named
	last              time.Duration
	start, end        time.Time
	compareShift      time.Duration
	compareByWindow   bool
	compareLabel      string
}

type sortKind int

const (
	sortNone sortKind = iota
	sortLatencyDesc
	sortLatencyAsc
	sortCountDesc
	sortCountAsc
)

// recognizer tries to read a phrase at p.toks[i:]; it returns how many
// tokens it used, 0 if the phrase is not there.
type recognizer func(p *parser, i int) int

// recognizers, in priority order at each position. Exact multi-word names
// come first so that an operation called "GET /cart" is not read as filler
// plus a path; single names come last so that keywords win over lookalike
// names.
var recognizers = []recognizer{
	(*parser).exactName,
	(*parser).identifiers,
	(*parser).comparison,
	(*parser).timeRange,
	(*parser).limitWords,
	(*parser).errorRateWords,
	(*parser).threshold,
	(*parser).aggFunc,
	(*parser).superlative,
	(*parser).latencyWords,
	(*parser).rateWords,
	(*parser).countWords,
	(*parser).orderBy,
	(*parser).groupBy,
	(*parser).entity,
	(*parser).containsWords,
	(*parser).negation,
	(*parser).statusWords,
	(*parser).signalWords,
	(*parser).kindWords,
	(*parser).filler,
	(*parser).name,
}

func (p *parser) scan() {
	for i := 0; i < len(p.toks); {
		used := 0
		for _, r := range recognizers {
			if used = r(p, i); used > 0 {
				break
			}
		}
		if used == 0 {
			p.unknown = append(p.unknown, p.toks[i].raw)
			used = 1
		}
		i += used
	}
}

// is reports whether token i is one of the words (quoted phrases never are).
func (p *parser) is(i int, words ...string) bool {
	return i < len(p.toks) && !p.toks[i].quoted && slices.Contains(words, p.toks[i].low)
}

// seq matches a phrase at i: each element is one word or alternatives
// separated by "|", optional when it ends in "?". It returns the number of
// tokens matched, 0 if a required element is missing.
func (p *parser) seq(i int, elems ...string) int {
	start := i
	for _, el := range elems {
		optional := strings.HasSuffix(el, "?")
		el = strings.TrimSuffix(el, "?")
		if i < len(p.toks) && !p.toks[i].quoted && wordIn(p.toks[i].low, el) {
			i++
			continue
		}
		if !optional {
			return 0
		}
	}
	return i - start
}

// wordIn reports whether w is one of the "|"-separated alternatives.
func wordIn(w, alternatives string) bool {
	for alternatives != "" {
		var alt string
		alt, alternatives, _ = strings.Cut(alternatives, "|")
		if alt == w {
			return true
		}
	}
	return false
}

// recognized counts a phrase that carries meaning and returns n.
func (p *parser) recognized(n int) int {
	p.understood++
	return n
}

// ---- names ----

// exactName reads two to four words that are exactly (case and separators
// aside) a known service or operation, such as "GET /cart" or "payment
// service".
func (p *parser) exactName(i int) int {
	for n := min(4, len(p.toks)-i); n >= 2; n-- {
		words := p.joined(i, n)
		if name, ok := p.services.lookup(words); ok {
			return p.recognized(p.addService(name, false, n))
		}
		if name, ok := p.operations.lookup(words); ok {
			return p.recognized(p.setOperation(name, n))
		}
	}
	return 0
}

func (p *parser) joined(i, n int) string {
	parts := make([]string, n)
	for k := range n {
		parts[k] = p.toks[i+k].raw
	}
	return strings.Join(parts, " ")
}

// name reads one known service or operation, allowing typos, or a URL path
// naming operations ("/cart").
func (p *parser) name(i int) int {
	t := p.toks[i]
	if strings.HasPrefix(t.raw, "/") {
		return p.path(i)
	}
	if n := p.serviceName(i, false); n > 0 {
		return n
	}
	if m, ok := p.operations.match(t.raw); ok {
		if len(m.ambiguous) > 0 {
			return p.ambiguous(t.raw, "operation", m.ambiguous)
		}
		p.noteTypo(t.raw, m, "operation")
		return p.recognized(p.setOperation(m.name, 1))
	}
	return 0
}

// path reads a URL path: the one operation on it ("GET /cart"), or all of
// them (span_name contains "/cart") when several methods share it.
func (p *parser) path(i int) int {
	path := p.toks[i].raw
	if name, ok := p.operations.lookup(path); ok {
		return p.recognized(p.setOperation(name, 1))
	}
	var named []string
	for _, op := range p.operations.names {
		if strings.HasSuffix(op, " "+path) || strings.Contains(op, " "+path+" ") {
			named = append(named, op)
		}
	}
	switch len(named) {
	case 0:
		return 0
	case 1:
		return p.recognized(p.setOperation(named[0], 1))
	}
	p.operation = &signalstore.Filter{Field: signalstore.FieldSpanName, Op: signalstore.OpContains, Value: signalstore.FilterValue(path)}
	p.spanOnly = append(p.spanOnly, path)
	return p.recognized(1)
}

// serviceName reads a service at i: "<name> service" first (so "payment
// service" finds payment-service), then the word alone.
func (p *parser) serviceName(i int, negate bool) int {
	if i >= len(p.toks) {
		return 0
	}
	if p.is(i+1, "service") {
		if m, ok := p.services.match(p.joined(i, 2)); ok && len(m.ambiguous) == 0 {
			p.noteTypo(p.joined(i, 2), m, "service")
			return p.recognized(p.addService(m.name, negate, 2))
		}
	}
	raw := p.toks[i].raw
	if !p.toks[i].quoted && isFiller(p.toks[i].low) {
		return 0
	}
	m, ok := p.services.match(raw)
	if !ok {
		return 0
	}
	if len(m.ambiguous) > 0 {
		return p.ambiguous(raw, "service", m.ambiguous)
	}
	p.noteTypo(raw, m, "service")
	return p.recognized(p.addService(m.name, negate, 1))
}

func (p *parser) addService(name string, negate bool, n int) int {
	if negate {
		p.excluded = append(p.excluded, name)
	} else if !slices.Contains(p.named, name) {
		p.named = append(p.named, name)
	}
	return n
}

func (p *parser) setOperation(name string, n int) int {
	p.operation = &signalstore.Filter{Field: signalstore.FieldSpanName, Op: signalstore.OpEq, Value: signalstore.FilterValue(name)}
	p.spanOnly = append(p.spanOnly, name)
	return n
}

func (p *parser) noteTypo(words string, m nameMatch, kind string) {
	if !m.exact && normalizeName(words) != normalizeName(m.name) {
		p.notes = append(p.notes, fmt.Sprintf("read %q as the %s %q", words, kind, m.name))
	}
}

func (p *parser) ambiguous(word, kind string, names []string) int {
	if len(names) > 3 {
		names = names[:3]
	}
	p.unknown = append(p.unknown, fmt.Sprintf("%s (could be the %s %s)", word, kind, strings.Join(names, " or ")))
	return 1
}

// ---- identifiers and attributes ----

var (
	hexTraceID = regexp.MustCompile(`^[0-9a-f]{32}$`)
	attrKey    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-/]{0,127}$`)
)

// resourcePrefixes are attribute namespaces that OpenTelemetry puts on the
// resource, not the span or log record.
var resourcePrefixes = []string{"service.", "deployment.", "host.", "k8s.", "cloud.", "container.", "process.", "telemetry.", "os.", "faas.", "device."}

func (p *parser) identifiers(i int) int {
	t := p.toks[i]
	if !t.quoted && hexTraceID.MatchString(t.low) {
		return p.recognized(p.addOther(signalstore.FieldTraceID, "", signalstore.OpEq, t.low, 1))
	}
	if n := p.seq(i, "trace|trace_id|traceid|trace-id", "id?"); n > 0 && i+n < len(p.toks) && hexTraceID.MatchString(p.toks[i+n].low) {
		return p.recognized(p.addOther(signalstore.FieldTraceID, "", signalstore.OpEq, p.toks[i+n].low, n+1))
	}
	if n := p.seq(i, "correlation|correlation_id|correlationid|correlation-id|request", "id?"); n > 0 {
		if p.is(i, "request") && n == 1 {
			return 0 // "request" alone is a span word
		}
		if i+n < len(p.toks) && (p.toks[i+n].quoted || attrKey.MatchString(p.toks[i+n].raw)) {
			return p.recognized(p.addOther(signalstore.FieldCorrelationID, "", signalstore.OpEq, p.toks[i+n].raw, n+1))
		}
	}
	// key=value, key!=value; and "<dotted.key> is|equals <value>".
	if !t.quoted {
		for _, sep := range []string{"!=", "==", "="} {
			key, value, ok := strings.Cut(t.raw, sep)
			if ok && value != "" {
				op := signalstore.OpEq
				if sep == "!=" {
					op = signalstore.OpNeq
				}
				return p.keyValue(key, op, value, 1)
			}
		}
		if strings.Contains(t.raw, ".") && attrKey.MatchString(t.raw) && i+2 < len(p.toks) {
			if n := p.seq(i+1, "is|=|==|equals|eq"); n > 0 {
				return p.keyValue(t.raw, signalstore.OpEq, p.toks[i+1+n].raw, 2+n)
			}
			if n := p.seq(i+1, "is", "not"); n > 0 {
				return p.keyValue(t.raw, signalstore.OpNeq, p.toks[i+1+n].raw, 2+n)
			}
		}
	}
	return 0
}

// keyValue turns key=value into a filter on the field the key names, or on
// an attribute. Known fields go through the same checks as words do.
func (p *parser) keyValue(key string, op signalstore.Op, value string, n int) int {
	switch strings.ToLower(key) {
	case "service", "service.name", "service_name":
		m, ok := p.services.match(value)
		if !ok || len(m.ambiguous) > 0 {
			p.unknown = append(p.unknown, key+"="+value)
			return n
		}
		p.noteTypo(value, m, "service")
		return p.recognized(p.addService(m.name, op == signalstore.OpNeq, n))
	case "status", "status_code":
		code, ok := statusCodes[strings.ToLower(value)]
		if !ok {
			p.unknown = append(p.unknown, key+"="+value)
			return n
		}
		p.spanOnly = append(p.spanOnly, key)
		return p.recognized(p.addOther(signalstore.FieldStatusCode, "", op, code, n))
	case "span_name", "operation", "endpoint":
		p.spanOnly = append(p.spanOnly, key)
		p.operation = &signalstore.Filter{Field: signalstore.FieldSpanName, Op: op, Value: signalstore.FilterValue(value)}
		return p.recognized(n)
	case "trace_id", "trace":
		return p.recognized(p.addOther(signalstore.FieldTraceID, "", op, strings.ToLower(value), n))
	case "correlation_id", "correlation":
		return p.recognized(p.addOther(signalstore.FieldCorrelationID, "", op, value, n))
	}
	if !attrKey.MatchString(key) {
		p.unknown = append(p.unknown, key+"="+value)
		return n
	}
	field := signalstore.FieldAttribute
	for _, prefix := range resourcePrefixes {
		if strings.HasPrefix(key, prefix) {
			field = signalstore.FieldResource
		}
	}
	return p.recognized(p.addOther(field, key, op, value, n))
}

var statusCodes = map[string]string{
	"error": signalstore.StatusCodeError, "ok": signalstore.StatusCodeOk, "unset": signalstore.StatusCodeUnset,
	"status_code_error": signalstore.StatusCodeError, "status_code_ok": signalstore.StatusCodeOk, "status_code_unset": signalstore.StatusCodeUnset,
}

func (p *parser) addOther(field signalstore.Field, key string, op signalstore.Op, value string, n int) int {
	if op == signalstore.OpEq && (field == signalstore.FieldTraceID || field == signalstore.FieldCorrelationID) {
		p.lookup = true
	}
	p.other = append(p.other, signalstore.Filter{Field: field, Key: key, Op: op, Value: signalstore.FilterValue(value)})
	return n
}

// ---- time ----

// comparison reads "than yesterday", "compared to last week", "vs the
// previous hour", "day over day".
func (p *parser) comparison(i int) int {
	if n := p.seq(i, "day|week", "over", "day|week"); n == 3 && p.toks[i].low == p.toks[i+2].low {
		if p.toks[i].low == "day" {
			return p.recognized(p.setCompare(24*time.Hour, "yesterday", n))
		}
		return p.recognized(p.setCompare(7*24*time.Hour, "last week", n))
	}
	lead := p.seq(i, "than|vs|vs.|versus|compared|compare|comparing|against", "to|with|against?")
	if lead == 0 {
		return 0
	}
	j := i + lead
	j += p.seq(j, "the?", "same?", "time?")
	switch {
	case p.is(j, "yesterday"):
		return p.recognized(p.setCompare(24*time.Hour, "yesterday", j+1-i))
	case p.seq(j, "last|previous|prior", "week") == 2:
		return p.recognized(p.setCompare(7*24*time.Hour, "last week", j+2-i))
	case p.seq(j, "day", "before") == 2:
		return p.recognized(p.setCompare(24*time.Hour, "yesterday", j+2-i))
	case p.seq(j, "previous|prior|preceding|last", "hour|period|window|interval|range") == 2 ||
		p.seq(j, "hour|period|window", "before") == 2:
		p.compareByWindow = true
		return p.recognized(p.setCompare(0, "the previous period", j+2-i))
	case p.is(j, "before", "earlier"):
		p.compareByWindow = true
		return p.recognized(p.setCompare(0, "the previous period", j+1-i))
	}
	// "than 2 hours ago", "vs a week ago".
	if d, n := p.readWindow(j); n > 0 && p.is(j+n, "ago") {
		return p.recognized(p.setCompare(d, humanDuration(d)+" earlier", j+n+1-i))
	}
	return 0
}

func (p *parser) setCompare(shift time.Duration, label string, n int) int {
	if p.compareLabel != "" {
		p.unknown = append(p.unknown, "a second comparison")
	}
	p.compareShift, p.compareLabel = shift, label
	return n
}

// timeRange reads the window: "in the last hour", "past 15 minutes",
// "today", "yesterday", "since 9am", "between 9am and 10am", "this week".
func (p *parser) timeRange(i int) int {
	lead := p.seq(i, "in|over|during|within|for|from|throughout|of|on?", "the?")
	j := i + lead
	if n := p.seq(j, "last|past|previous|recent|trailing"); n > 0 {
		if d, m := p.readWindow(j + n); m > 0 {
			end := j + n + m
			end += p.seq(end, "or", "so")
			return p.setLast(d, end-i)
		}
	}
	switch {
	case p.is(j, "today"):
		return p.setWindow(midnight(p.now), time.Time{}, j+1-i+p.seq(j+1, "so", "far"))
	case p.is(j, "yesterday"):
		today := midnight(p.now)
		return p.setWindow(today.AddDate(0, 0, -1), today, j+1-i)
	case p.seq(j, "this", "week") == 2:
		today := midnight(p.now)
		monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
		return p.setWindow(monday, time.Time{}, j+2-i)
	case p.seq(j, "this", "hour") == 2:
		hour := time.Date(p.now.Year(), p.now.Month(), p.now.Day(), p.now.Hour(), 0, 0, 0, p.now.Location())
		return p.setWindow(hour, time.Time{}, j+2-i)
	}
	// "between 9am and 10am", "from 9:00 to 10:30".
	if n := p.seq(i, "between|from"); n > 0 {
		if c1, m1 := p.readClock(i+n, true); m1 > 0 {
			k := i + n + m1
			if sep := p.seq(k, "and|to|until|till|-"); sep > 0 {
				if c2, m2 := p.readClock(k+sep, true); m2 > 0 {
					if !strings.ContainsAny(p.toks[i+n].low, ":apm") && c2.hour >= 12 && c1.hour < 12 && c1.hour+12 <= c2.hour {
						c1.hour += 12 // "between 2 and 3pm"
					}
					start := c1.on(p.now)
					end := time.Date(start.Year(), start.Month(), start.Day(), c2.hour, c2.minute, 0, 0, start.Location())
					if !end.After(start) {
						end = end.AddDate(0, 0, 1)
					}
					return p.setWindow(start, end, k+sep+m2-i)
				}
			}
		}
	}
	if n := p.seq(i, "since|after|from"); n > 0 {
		switch {
		case p.is(i+n, "yesterday"):
			return p.setWindow(midnight(p.now).AddDate(0, 0, -1), time.Time{}, n+1)
		case p.is(i+n, "today", "midnight"):
			return p.setWindow(midnight(p.now), time.Time{}, n+1)
		}
		if c, m := p.readClock(i+n, p.is(i, "since")); m > 0 {
			start := c.on(p.now)
			return p.setWindow(start, time.Time{}, n+m)
		}
	}
	return 0
}

func (p *parser) setLast(d time.Duration, n int) int {
	if d < time.Second {
		return 0
	}
	if !p.claimTime() {
		return n
	}
	p.last = d
	return p.recognized(n)
}

func (p *parser) setWindow(start, end time.Time, n int) int {
	if !p.claimTime() {
		return n
	}
	p.start, p.end = start, end
	return p.recognized(n)
}

// claimTime records that the question names its window; a second window
// is not understood.
func (p *parser) claimTime() bool {
	if p.timeSet {
		p.unknown = append(p.unknown, "a second time range")
		return false
	}
	p.timeSet = true
	return true
}

// ---- limits and ordering ----

func (p *parser) limitWords(i int) int {
	if n := p.seq(i, "top"); n > 0 {
		num, used := p.readInt(i + 1)
		if used == 0 {
			num = 10
		}
		return p.recognized(p.setLimit(num, 1+used))
	}
	if n := p.seq(i, "most?", "first|last|latest|newest|recent|oldest|earliest|limit"); n > 0 {
		if num, used := p.readInt(i + n); used > 0 {
			p.oldestFirst = p.is(i+n-1, "first", "oldest", "earliest")
			return p.recognized(p.setLimit(num, n+used))
		}
		return 0
	}
	// "5 slowest endpoints", "10 errors".
	if num, used := p.readInt(i); used > 0 && !p.is(i, "a", "an", "one", "couple") && i+used < len(p.toks) {
		next := p.toks[i+used].low
		if superlatives[next] != "" || pluralNouns[next] {
			return p.recognized(p.setLimit(num, used))
		}
	}
	return 0
}

var pluralNouns = map[string]bool{
	"services": true, "endpoints": true, "operations": true, "routes": true, "errors": true, "logs": true,
	"spans": true, "traces": true, "requests": true, "calls": true, "failures": true, "messages": true, "lines": true,
}

func (p *parser) setLimit(n, used int) int {
	p.limit = min(n, signalstore.MaxQueryLimit)
	return used
}

// superlatives map a word to what it sorts by.
var superlatives = map[string]string{
	"slowest": "latency-desc", "longest": "latency-desc",
	"fastest": "latency-asc", "quickest": "latency-asc", "shortest": "latency-asc",
	"busiest": "count-desc", "noisiest": "count-desc", "chattiest": "count-desc", "loudest": "count-desc",
	"quietest": "count-asc",
}

func (p *parser) superlative(i int) int {
	if how := superlatives[p.tokLow(i)]; how != "" {
		p.setOrder(how)
		return p.recognized(1)
	}
	if n := p.seq(i, "most|highest|biggest|worst|largest"); n > 0 {
		j := i + n
		switch {
		case p.seq(j, "latency|duration|response") > 0:
			p.setOrder("latency-desc")
			return p.recognized(n) // the latency word is read next
		case p.seq(j, "errors|failures|errored|failing|failed|erroring|exceptions") > 0:
			p.errorsWanted = true
			p.setOrder("count-desc")
			return p.recognized(n + 1)
		case p.seq(j, "error|failure", "rate|ratio|percentage") == 2:
			p.errorRate = true
			p.spanOnly = append(p.spanOnly, "error rate")
			return p.recognized(n + 2)
		case p.seq(j, "traffic|requests|calls|spans|volume|load|throughput|active|used|called|requested|frequent|common|popular") > 0:
			p.setOrder("count-desc")
			return p.recognized(n + 1)
		case p.seq(j, "logs|log|messages") > 0:
			p.logs = true
			p.setOrder("count-desc")
			return p.recognized(n + 1)
		case j == len(p.toks) && p.is(i, "most"):
			// "which service logs the most"
			p.setOrder("count-desc")
			return p.recognized(n)
		}
		return 0
	}
	if n := p.seq(i, "least|fewest|lowest|smallest"); n > 0 {
		j := i + n
		switch {
		case p.seq(j, "latency|duration|response") > 0:
			p.setOrder("latency-asc")
			return p.recognized(n)
		case p.seq(j, "traffic|requests|calls|spans|volume|load|throughput|active|used|called|logs") > 0:
			p.logs = p.logs || p.is(j, "logs")
			p.setOrder("count-asc")
			return p.recognized(n + 1)
		}
	}
	return 0
}

func (p *parser) tokLow(i int) string {
	if i >= len(p.toks) || p.toks[i].quoted {
		return ""
	}
	return p.toks[i].low
}

func (p *parser) setOrder(how string) {
	switch how {
	case "latency-desc":
		p.order, p.latency = sortLatencyDesc, true
	case "latency-asc":
		p.order, p.latency = sortLatencyAsc, true
	case "count-desc":
		p.order, p.count = sortCountDesc, true
	case "count-asc":
		p.order, p.count = sortCountAsc, true
	}
	if p.latency {
		p.spanOnly = append(p.spanOnly, "latency")
	}
}

// ---- measures ----

func (p *parser) errorRateWords(i int) int {
	n := p.seq(i, "error|errors|failure|failed|fail|success|availability", "rate|ratio|percentage|percent|%|fraction|share")
	if n == 0 {
		n = p.seq(i, "percentage|percent|fraction|share|ratio|proportion|%", "of", "errors|failures|failed|requests")
		if n > 0 && p.is(i+n-1, "requests") {
			n = 0
		}
	}
	if n == 0 {
		return 0
	}
	p.errorRate = true
	p.spanOnly = append(p.spanOnly, "error rate")
	return p.recognized(n)
}

// thresholdOps maps comparison phrases to filter operators.
var thresholdOps = []struct {
	words []string
	op    signalstore.Op
}{
	{[]string{"more|longer|slower|greater|higher", "than"}, signalstore.OpGt},
	{[]string{"over|above|exceeding|exceeds|exceed|beyond|>"}, signalstore.OpGt},
	{[]string{"at", "least"}, signalstore.OpGte},
	{[]string{">=|≥"}, signalstore.OpGte},
	{[]string{"less|shorter|faster|quicker|lower", "than"}, signalstore.OpLt},
	{[]string{"under|below|within|<"}, signalstore.OpLt},
	{[]string{"at", "most"}, signalstore.OpLte},
	{[]string{"<=|≤"}, signalstore.OpLte},
}

// threshold reads "over 2s", "taking more than 500 ms", "> 1.5s".
func (p *parser) threshold(i int) int {
	f, n := p.readThreshold(i)
	if n == 0 {
		return 0
	}
	p.durations = append(p.durations, f)
	p.spanOnly = append(p.spanOnly, "duration")
	return p.recognized(n)
}

func (p *parser) readThreshold(i int) (signalstore.Filter, int) {
	lead := p.seq(i, "taking|took|take|takes|lasting|lasted|running|ran|with|that|which?", "took|take|takes|taking?")
	for _, t := range thresholdOps {
		n := p.seq(i+lead, t.words...)
		if n == 0 {
			continue
		}
		if d, m := p.readDuration(i + lead + n); m > 0 {
			return signalstore.Filter{Field: signalstore.FieldDuration, Op: t.op, Value: signalstore.FilterValue(d.String())}, lead + n + m
		}
	}
	return signalstore.Filter{}, 0
}

var percentileWords = map[string]signalstore.AggFunc{
	"p50": signalstore.AggP50, "p90": signalstore.AggP90, "p95": signalstore.AggP95, "p99": signalstore.AggP99,
	"median": signalstore.AggP50, "50th": signalstore.AggP50, "90th": signalstore.AggP90, "95th": signalstore.AggP95, "99th": signalstore.AggP99,
	"average": signalstore.AggAvg, "avg": signalstore.AggAvg, "mean": signalstore.AggAvg,
	"max": signalstore.AggMax, "maximum": signalstore.AggMax, "min": signalstore.AggMin, "minimum": signalstore.AggMin,
}

// aggFunc reads "p99", "median", "95th percentile", "average", "max".
func (p *parser) aggFunc(i int) int {
	f, ok := percentileWords[p.tokLow(i)]
	if !ok {
		return 0
	}
	n := 1 + p.seq(i+1, "percentile|pctl")
	if !slices.Contains(p.latencyFuncs, f) {
		p.latencyFuncs = append(p.latencyFuncs, f)
	}
	p.latency = true
	p.spanOnly = append(p.spanOnly, string(f))
	return p.recognized(n)
}

// latencyWords reads "latency", "response time", "duration", "how long",
// "slow", "slower". A latency word right before a threshold ("duration over
// 2s") only names what the threshold is about.
func (p *parser) latencyWords(i int) int {
	n := p.seq(i, "latency|latencies|duration|durations|response|request|responses", "time|times|duration|durations?")
	if n > 0 && p.is(i, "response", "request", "responses") && n == 1 {
		n = 0
	}
	if n == 0 {
		n = p.seq(i, "how", "long|slow|fast")
	}
	if n > 0 {
		if _, thr := p.readThreshold(i + n); thr == 0 {
			p.latency = true
		}
		p.spanOnly = append(p.spanOnly, "latency")
		return p.recognized(n)
	}
	switch p.tokLow(i) {
	case "slow", "slowly", "sluggish":
		p.slow = true
	case "slower", "faster", "quicker":
		p.latency = true
	default:
		return 0
	}
	p.spanOnly = append(p.spanOnly, "latency")
	return p.recognized(1)
}

func (p *parser) rateWords(i int) int {
	n := p.seq(i, "per|a|/", "second|sec|s")
	if n == 0 {
		n = p.seq(i, "throughput|rps|qps|rate|tps")
	}
	if n == 0 {
		return 0
	}
	p.rate = true
	return p.recognized(n)
}

func (p *parser) countWords(i int) int {
	n := p.seq(i, "how", "many|much")
	if n == 0 {
		n = p.seq(i, "count|counts|number|total|amount|volume|tally", "of?")
	}
	if n == 0 {
		return 0
	}
	p.count = true
	return p.recognized(n)
}

// ---- grouping ----

// orderBy reads "by error count", "sorted by latency", "ranked by p99":
// what groups are ranked by.
func (p *parser) orderBy(i int) int {
	lead := p.seq(i, "sorted|ordered|ranked|sort|order|rank?", "by")
	if lead == 0 {
		return 0
	}
	j := i + lead
	switch {
	case p.seq(j, "error|failure", "rate|ratio|percentage") == 2:
		p.errorRate = true
		p.spanOnly = append(p.spanOnly, "error rate")
		return p.recognized(lead + 2)
	case p.seq(j, "errors|error|failures|failed") > 0:
		p.errorsWanted = true
		p.setOrder("count-desc")
		return p.recognized(lead + 1 + p.seq(j+1, "count|counts"))
	case p.seq(j, "count|requests|calls|traffic|volume|hits|number|spans|logs") > 0:
		p.logs = p.logs || p.is(j, "logs")
		p.setOrder("count-desc")
		return p.recognized(lead + 1)
	case p.seq(j, "latency|duration|slowness") > 0 || p.seq(j, "response", "time") == 2:
		p.setOrder("latency-desc")
		return p.recognized(lead + p.seq(j, "latency|duration|slowness|response", "time?"))
	}
	if _, ok := percentileWords[p.tokLow(j)]; ok {
		p.setOrder("latency-desc")
		p.aggFunc(j)
		return lead + 1 + p.seq(j+1, "latency|duration")
	}
	return 0
}

// groupEntities maps the words after "by" to a grouping field.
var groupEntities = map[string]signalstore.Field{
	"service": signalstore.FieldServiceName, "services": signalstore.FieldServiceName,
	"endpoint": signalstore.FieldSpanName, "endpoints": signalstore.FieldSpanName,
	"operation": signalstore.FieldSpanName, "operations": signalstore.FieldSpanName,
	"route": signalstore.FieldSpanName, "routes": signalstore.FieldSpanName,
	"span": signalstore.FieldSpanName, "name": signalstore.FieldSpanName, "method": signalstore.FieldSpanName,
	"status": signalstore.FieldStatusCode, "statuses": signalstore.FieldStatusCode, "outcome": signalstore.FieldStatusCode,
	"severity": signalstore.FieldSeverityText, "level": signalstore.FieldSeverityText, "severities": signalstore.FieldSeverityText,
	"kind": signalstore.FieldSpanKind, "trace": signalstore.FieldTraceID, "traces": signalstore.FieldTraceID,
	"correlation": signalstore.FieldCorrelationID,
}

func (p *parser) groupBy(i int) int {
	if n := p.seq(i, "over|across|through", "time"); n > 0 {
		p.autoInterval = true
		return p.recognized(n)
	}
	if n := p.seq(i, "as|in?", "a?", "timeseries|time-series|trend|histogram"); n > 0 && p.is(i+n-1, "timeseries", "time-series", "trend", "histogram") {
		p.autoInterval = true
		return p.recognized(n)
	}
	lead := p.seq(i, "by|per|grouped|group|broken|breakdown|split|each|every", "by|down|for?", "by|each|every?")
	if lead == 0 {
		if lead = p.seq(i, "for|across|among", "each|every|all"); lead == 0 {
			return 0
		}
	}
	j := i + lead
	// Time buckets: "per minute", "by hour", "every 5 minutes".
	if d, n := p.readWindow(j); n > 0 && !p.is(i, "each") {
		if d < time.Second || d%time.Second != 0 {
			return 0
		}
		p.interval = d
		return p.recognized(lead + n)
	}
	if p.is(j, "time") {
		p.autoInterval = true
		return p.recognized(lead + 1)
	}
	if n := p.groupEntity(j); n > 0 {
		// "by service and endpoint"
		for k := j + n; p.is(k, "and", "then", "&"); {
			m := p.groupEntity(k + 1)
			if m == 0 {
				break
			}
			k += 1 + m
			n = k - j
		}
		return p.recognized(lead + n)
	}
	if j < len(p.toks) && strings.Contains(p.toks[j].raw, ".") && attrKey.MatchString(p.toks[j].raw) {
		field := signalstore.FieldAttribute
		for _, prefix := range resourcePrefixes {
			if strings.HasPrefix(p.toks[j].raw, prefix) {
				field = signalstore.FieldResource
			}
		}
		return p.recognized(p.addGroup(signalstore.GroupBy{Field: field, Key: p.toks[j].raw}, j+1-i))
	}
	if p.is(i, "by", "per") && j < len(p.toks) {
		// "by region": a grouping the store does not have.
		p.unknown = append(p.unknown, p.toks[i].raw+" "+p.toks[j].raw)
		return j + 1 - i
	}
	return 0
}

// groupEntity reads one grouping noun ("service", "status code", "log
// level") and adds the group.
func (p *parser) groupEntity(j int) int {
	start := j
	j += p.seq(j, "log|span|http?")
	f, ok := groupEntities[p.tokLow(j)]
	if !ok {
		return 0
	}
	n := j + 1 - start + p.seq(j+1, "name|names|code|codes|kind|id|ids|level")
	return p.addGroup(signalstore.GroupBy{Field: f}, n)
}

func (p *parser) addGroup(g signalstore.GroupBy, n int) int {
	if !slices.Contains(p.groups, g) {
		p.groups = append(p.groups, g)
	}
	switch g.Field {
	case signalstore.FieldSpanName, signalstore.FieldSpanKind, signalstore.FieldStatusCode:
		p.spanOnly = append(p.spanOnly, "by "+g.Column())
	case signalstore.FieldSeverityText:
		p.logOnly = append(p.logOnly, "by severity")
	}
	return n
}

// entity reads "services", "endpoints" (plural nouns group by them) and
// "which service" / "what endpoint" (singular: the answer is one row when
// sorted).
func (p *parser) entity(i int) int {
	if n := p.seq(i, "which|what"); n > 0 {
		if f, ok := groupEntities[p.tokLow(i+1)]; ok && (f == signalstore.FieldServiceName || f == signalstore.FieldSpanName) {
			p.groupSingular = !strings.HasSuffix(p.tokLow(i+1), "s")
			return p.recognized(p.addGroup(signalstore.GroupBy{Field: f}, 2))
		}
		return 0
	}
	switch p.tokLow(i) {
	case "services":
		return p.recognized(p.addGroup(signalstore.GroupBy{Field: signalstore.FieldServiceName}, 1))
	case "endpoints", "operations", "routes":
		return p.recognized(p.addGroup(signalstore.GroupBy{Field: signalstore.FieldSpanName}, 1))
	}
	return 0
}

// ---- filters from words ----

// containsWords reads "containing timeout", "mentioning 'connection
// refused'", "with text x". Unquoted values are one word; the value is kept
// as typed, because the store matches it case-sensitively.
func (p *parser) containsWords(i int) int {
	n := p.seq(i, "that|which|where?", "containing|contains|contain|mentioning|mentions|mention|matching|match|matches|including|includes|saying|says|say")
	if n == 0 {
		n = p.seq(i, "with|where", "the?", "text|message|body", "contains|containing|of|=?")
	}
	if n == 0 && p.is(i, "with", "about", "like") && i+1 < len(p.toks) && p.toks[i+1].quoted {
		n = 1
	}
	if n == 0 || i+n >= len(p.toks) {
		return 0
	}
	p.contains = append(p.contains, p.toks[i+n].raw)
	p.logOnly = append(p.logOnly, "containing")
	return p.recognized(n + 1)
}

// negation reads "except checkout", "excluding payment service", "without
// errors", "not failing".
func (p *parser) negation(i int) int {
	n := p.seq(i, "except|excluding|exclude|without|not|besides|ignoring|ignore|but", "for|not?", "in|from|on|of|including?", "the?")
	if n == 0 {
		n = p.seq(i, "other|apart", "than|from", "the?")
	}
	if n == 0 {
		return 0
	}
	if p.seq(i+n, "errors|error|failures|failed|failing|erroring|errored") > 0 {
		p.successWanted = true
		return p.recognized(n + 1)
	}
	if m := p.serviceName(i+n, true); m > 0 {
		return n + m
	}
	return 0
}

func (p *parser) statusWords(i int) int {
	switch p.tokLow(i) {
	case "errors", "error", "failed", "failures", "failure", "failing", "errored", "erroring", "exceptions", "exception", "faults", "unsuccessful", "erroneous":
		p.errorsWanted = true
	case "warnings", "warning", "warn", "warns":
		p.warningsWanted = true
		p.logOnly = append(p.logOnly, "warnings")
	case "successful", "succeeded", "success", "successes", "ok", "healthy", "non-error", "non-errors", "non-failing", "error-free":
		p.successWanted = true
	default:
		return 0
	}
	return p.recognized(1)
}

func (p *parser) signalWords(i int) int {
	if n := p.seq(i, "log|logs|logged|logging", "lines|entries|records|messages|events?"); n > 0 {
		p.logs = true
		return p.recognized(n)
	}
	switch p.tokLow(i) {
	case "messages", "entries":
		p.logs = true
	case "spans", "span", "traces", "trace", "requests", "request", "calls", "call", "transactions", "hits", "invocations", "traffic":
		p.spans = true
	default:
		return 0
	}
	return p.recognized(1)
}

var spanKinds = map[string]string{
	"server": "Server", "incoming": "Server", "inbound": "Server",
	"client": "Client", "outgoing": "Client", "outbound": "Client",
	"internal": "Internal", "producer": "Producer", "consumer": "Consumer",
}

func (p *parser) kindWords(i int) int {
	kind, ok := spanKinds[p.tokLow(i)]
	if !ok {
		return 0
	}
	if p.kind != "" && p.kind != kind {
		p.unknown = append(p.unknown, p.toks[i].raw+" (a second span kind)")
		return 1
	}
	p.kind = kind
	p.spanOnly = append(p.spanOnly, p.toks[i].low)
	return p.recognized(1)
}

// fillerWords carry no meaning for the query.
var fillerWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the show me list find get give display fetch pull see view tell
		what which who whats what's is are was were be been being do does did have has had there any all
		some of in for from on at to with within and by i we you us our my your it its this that these those
		please can could would should will may might just only also now currently current right recent recently
		happening happened happen occurred occurring seen going on so far about much many more less than
		service endpoint operation route api app application system how why when where up them they their
		here if ever been having each every per into across thing things stuff kind kinds type types lately
		did look looks looking like want need check many was status level then over under most top
		write wrote written writes emit emitted emits produce produced produces generate generated take takes took
		receive received receives serve served serves handle handled handles return returned returns throw threw
		thrown raise raised hit make made log`) {
		fillerWords[w] = true
	}
}

func isFiller(w string) bool { return fillerWords[w] }

func (p *parser) filler(i int) int {
	if p.toks[i].quoted || !isFiller(p.toks[i].low) {
		return 0
	}
	return 1
}
