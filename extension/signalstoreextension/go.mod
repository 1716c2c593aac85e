module github.com/ollystack/ollystack/extension/signalstoreextension

go 1.26.0
