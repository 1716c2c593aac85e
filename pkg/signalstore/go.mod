module github.com/ollystack/ollystack/pkg/signalstore

go 1.26.0
