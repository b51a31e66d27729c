package commands

// SealCommands are the seal, signature-image and approval-policy use cases.
type SealCommands struct{}

func newSealCommands(d Deps) SealCommands { return SealCommands{} }
