package commands

// TemplateCommands are the template use cases (模板管理).
type TemplateCommands struct{}

func newTemplateCommands(d Deps) TemplateCommands { return TemplateCommands{} }
