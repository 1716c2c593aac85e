package logpattern_test

import (
	"fmt"

	"github.com/ollystack/ollystack/pkg/analysis/logpattern"
)

func Example() {
	m, err := logpattern.New(logpattern.Config{})
	if err != nil {
		panic(err)
	}
	for _, line := range []string{
		"connection pool exhausted: active=50 idle=0 waiting=12",
		"connection pool exhausted: active=50 idle=0 waiting=31",
		"login succeeded for alice from 10.0.0.7",
		"login succeeded for bob from 10.0.3.9",
	} {
		match := m.Add(line)
		fmt.Printf("new=%-5v %s\n", match.New, match.Template)
	}

	// Persist the state, for example through a storage extension, and
	// restore it after a restart: ids stay the same.
	state, err := m.Snapshot()
	if err != nil {
		panic(err)
	}
	restarted, _ := logpattern.New(logpattern.Config{})
	if err := restarted.Restore(state); err != nil {
		panic(err)
	}
	before, _ := m.Match("login succeeded for carol from 10.0.9.1")
	after, _ := restarted.Match("login succeeded for carol from 10.0.9.1")
	fmt.Println("same id after restore:", before.ID == after.ID)
	// Output:
	// new=true  connection pool exhausted: active=<*> idle=<*> waiting=<*>
	// new=false connection pool exhausted: active=<*> idle=<*> waiting=<*>
	// new=true  login succeeded for alice from <*>
	// new=false login succeeded for <*> from <*>
	// same id after restore: true
}

func ExampleKeyed() {
	k, err := logpattern.NewKeyed(logpattern.Config{}, 100)
	if err != nil {
		panic(err)
	}
	a := k.Add("checkout", "payment 42 declined")
	b := k.Add("billing", "payment 43 declined")
	fmt.Println(a.New, b.New, a.ID == b.ID)
	// Output: true true true
}
