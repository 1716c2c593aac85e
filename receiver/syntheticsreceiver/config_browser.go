package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"errors"
	"fmt"
)

// Browser step actions.
const (
	actionNavigate    = "navigate"
	actionWaitVisible = "wait_visible"
	actionClick       = "click"
	actionType        = "type"
	actionAssertText  = "assert_text"
)

// BrowserCheckConfig drives headless Chromium: it opens URL, then runs the
// steps in order.
type BrowserCheckConfig struct {
	URL   string              `mapstructure:"url"`
	Steps []BrowserStepConfig `mapstructure:"steps"`
}

// BrowserStepConfig is one action on the page. Selectors are CSS selectors.
type BrowserStepConfig struct {
	// Name labels the step's span; it defaults to "<action> <selector>".
	Name   string `mapstructure:"name"`
	Action string `mapstructure:"action"`
	// Selector is required by every action but navigate.
	Selector string `mapstructure:"selector"`
	// Text is what type enters, or what assert_text expects the element's
	// visible text to contain.
	Text string `mapstructure:"text"`
	// URL is where navigate goes.
	URL string `mapstructure:"url"`
}

func (c *BrowserCheckConfig) validate() []error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("url: must not be empty"))
	} else if err := validHTTPURL(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	for i := range c.Steps {
		for _, err := range c.Steps[i].validate() {
			errs = append(errs, fmt.Errorf("steps[%d].%w", i, err))
		}
	}
	return errs
}

func (s *BrowserStepConfig) validate() []error {
	var errs []error
	switch s.Action {
	case actionNavigate:
		if err := validHTTPURL(s.URL); err != nil {
			errs = append(errs, fmt.Errorf("url: %w", err))
		}
		return errs
	case actionWaitVisible, actionClick:
	case actionType, actionAssertText:
		if s.Text == "" {
			errs = append(errs, fmt.Errorf("text: required by %s", s.Action))
		}
	default:
		return []error{fmt.Errorf("action: must be one of navigate, wait_visible, click, type, assert_text, got %q", s.Action)}
	}
	if s.Selector == "" {
		errs = append(errs, fmt.Errorf("selector: required by %s", s.Action))
	}
	return errs
}

// stepName is the span name of the step.
func (s *BrowserStepConfig) stepName() string {
	if s.Name != "" {
		return s.Name
	}
	if s.Action == actionNavigate {
		return "navigate " + redactURL(s.URL)
	}
	return s.Action + " " + s.Selector
}
