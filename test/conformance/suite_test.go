package conformance

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/versity/versitygw/tests/integration"
)

const (
	// defaultParallel is how many suite tests run at once; each makes its own bucket.
	defaultParallel = 8
	// testTimeout bounds one suite test. A test that overruns is recorded as a
	// timeout and left running: the suite offers no way to cancel it.
	testTimeout = 60 * time.Second
	// envParallel overrides defaultParallel.
	envParallel = "IPAS_CONFORMANCE_PARALLEL"
	// envRun, a regular expression, limits the run to the suite tests it matches.
	envRun = "IPAS_CONFORMANCE_RUN"
	// resultsFile receives the counts and one line per suite test.
	resultsFile = "results.txt"
	// suiteLogFile receives what the suite prints on stdout.
	suiteLogFile = "suite.log"
	// requiredFile lists the suite tests that must pass.
	requiredFile = "required.txt"
)

// outcome is how one suite test ended.
type outcome string

const (
	outcomePass    outcome = "PASS"
	outcomeFail    outcome = "FAIL"
	outcomePanic   outcome = "PANIC"
	outcomeTimeout outcome = "TIMEOUT"
)

// result is the record of one suite test.
type result struct {
	name    string
	outcome outcome
	detail  string
	elapsed time.Duration
}

// TestConformance runs every test of versitygw's integration suite against the
// gateway, writes results.txt, and fails if a test named in required.txt did not pass.
func TestConformance(t *testing.T) {
	required, err := readRequired(requiredFile)
	if err != nil {
		t.Fatal(err)
	}
	all := integration.GetIntTests()
	for _, name := range required {
		if _, ok := all[name]; !ok {
			t.Errorf("%s names %q, which is not a test of the suite", requiredFile, name)
		}
	}
	filter := regexp.MustCompile(os.Getenv(envRun))
	var concurrent, serial []string
	for name := range all {
		if !filter.MatchString(name) {
			continue
		}
		if mustRunAlone(name) {
			serial = append(serial, name)
		} else {
			concurrent = append(concurrent, name)
		}
	}
	sort.Strings(concurrent)
	sort.Strings(serial)
	parallel := defaultParallel
	if v := os.Getenv(envParallel); v != "" {
		if parallel, err = strconv.Atoi(v); err != nil || parallel < 1 {
			t.Fatalf("%s=%q: want a positive integer", envParallel, v)
		}
	}

	// The suite gives the SDK its own http.Client, with which the SDK cannot honour
	// a machine-wide AWS_CA_BUNDLE: it exits the process instead.
	t.Setenv("AWS_CA_BUNDLE", "")
	os.Unsetenv("AWS_CA_BUNDLE")
	srv := startServer(t)
	conf := integration.NewS3Conf(
		integration.WithEndpoint(srv.endpoint),
		integration.WithAccess(srv.access),
		integration.WithSecret(srv.secret),
		integration.WithRegion("us-east-1"),
		// Buckets are emptied version by version, so that a test that
		// versioned its bucket can delete it.
		integration.WithVersioningEnabled(),
	)

	restore, err := captureStdout(suiteLogFile)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	results := runAll(conf, all, concurrent, parallel)
	results = append(results, runAll(conf, all, serial, 1)...)
	elapsed := time.Since(start)
	restore()

	sort.Slice(results, func(i, j int) bool { return results[i].name < results[j].name })
	counts := map[outcome]int{}
	byName := map[string]result{}
	for _, r := range results {
		counts[r.outcome]++
		byName[r.name] = r
	}
	summary := fmt.Sprintf("suite tests: %d  pass: %d  fail: %d  panic: %d  timeout: %d  (%s, %d at once)",
		len(results), counts[outcomePass], counts[outcomeFail], counts[outcomePanic], counts[outcomeTimeout],
		elapsed.Round(time.Second), parallel)
	if err := writeResults(resultsFile, summary, results); err != nil {
		t.Error(err)
	}
	t.Log(summary)
	t.Logf("per-test results in %s, suite output in %s", resultsFile, suiteLogFile)

	passedRequired, ranRequired := 0, 0
	for _, name := range required {
		r, ran := byName[name]
		switch {
		case !ran:
			// Filtered out by envRun, or not a suite test (reported above).
		case r.outcome != outcomePass:
			ranRequired++
			t.Errorf("required %s: %s: %s", name, r.outcome, r.detail)
		default:
			ranRequired++
			passedRequired++
		}
	}
	t.Logf("required: %d of %d run passed (%d listed in %s)", passedRequired, ranRequired, len(required), requiredFile)
}

// mustRunAlone reports whether a suite test needs the server to itself: the
// ListBuckets tests expect to see only their own buckets, and the large object
// test measures memory and time. versitygw's own runner runs these synchronously.
func mustRunAlone(name string) bool {
	return strings.HasPrefix(name, "ListBuckets_") || name == "IAM_ListBuckets" || name == "GetObject_large_object"
}

// runAll runs the named suite tests, parallel at a time, and returns their results.
func runAll(conf *integration.S3Conf, all integration.IntTests, names []string, parallel int) []result {
	results := make([]result, len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for i := range next {
				results[i] = runOne(conf, names[i], all[names[i]])
			}
		})
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// runOne runs one suite test, turning a panic into a result and giving up
// waiting after testTimeout.
func runOne(conf *integration.S3Conf, name string, fn integration.IntTest) result {
	start := time.Now()
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{outcome: outcomePanic, detail: fmt.Sprint(p)}
			}
		}()
		if err := fn(conf); err != nil {
			done <- result{outcome: outcomeFail, detail: err.Error()}
			return
		}
		done <- result{outcome: outcomePass}
	}()
	timer := time.NewTimer(testTimeout)
	defer timer.Stop()
	var r result
	select {
	case r = <-done:
	case <-timer.C:
		r = result{outcome: outcomeTimeout, detail: fmt.Sprintf("no result within %v", testTimeout)}
	}
	r.name = name
	r.elapsed = time.Since(start)
	return r
}

// readRequired returns the test names in path: one a line, # starts a comment.
func readRequired(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("conformance: read required list: %w", err)
	}
	defer f.Close()
	var names []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" || seen[line] {
			continue
		}
		seen[line] = true
		names = append(names, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("conformance: read required list: %w", err)
	}
	return names, nil
}

// writeResults writes the summary and one line per test to path.
func writeResults(path, summary string, results []result) error {
	var b strings.Builder
	b.WriteString(summary + "\n\n")
	for _, r := range results {
		detail := strings.Join(strings.Fields(r.detail), " ")
		if len(detail) > 400 {
			detail = detail[:400] + "..."
		}
		fmt.Fprintf(&b, "%-7s %-80s %6.2fs %s\n", r.outcome, r.name, r.elapsed.Seconds(), detail)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("conformance: write results: %w", err)
	}
	return nil
}

// captureStdout sends os.Stdout to path until restore is called: the suite
// prints a RUN/PASS/FAIL line per test, which would drown the test log.
func captureStdout(path string) (restore func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("conformance: capture suite output: %w", err)
	}
	saved := os.Stdout
	os.Stdout = f
	return func() {
		os.Stdout = saved
		f.Close()
	}, nil
}
