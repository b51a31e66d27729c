package commands

// ContractCommands are sending and signing.
type ContractCommands struct{}

func newContractCommands(d Deps) ContractCommands { return ContractCommands{} }
