package commands

// The template helpers the contract commands use, for the tests.
var (
	LoadTemplate   = loadTemplate
	MayUseTemplate = mayUseTemplate
)
