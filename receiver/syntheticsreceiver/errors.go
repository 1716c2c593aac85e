package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import "errors"

var errReadLimit = errors.New("read limit reached without the expected reply")
