// Command slorules writes Prometheus recording and alerting rules equivalent
// to the built-in alerts of every slometrics connector of a collector
// configuration:
//
//	go run ./connector/slometricsconnector/cmd/slorules \
//	    --config distributions/otelcol-ollystack/config.yaml > slo-rules.yaml
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ollystack/ollystack/connector/slometricsconnector"
)

func main() {
	configPath := flag.String("config", "", "collector configuration file (YAML)")
	flag.Parse()
	if *configPath == "" {
		fmt.Fprintln(os.Stderr, "usage: slorules --config collector.yaml")
		os.Exit(2)
	}
	data, err := os.ReadFile(*configPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rules, err := slometricsconnector.PrometheusRulesFromCollectorConfig(data)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", *configPath, err)
		os.Exit(1)
	}
	if _, err := os.Stdout.Write(rules); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
