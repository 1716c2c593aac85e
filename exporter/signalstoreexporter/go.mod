module github.com/ollystack/ollystack/exporter/signalstoreexporter

go 1.26.0
