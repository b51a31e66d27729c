package readapi

import "github.com/gorilla/mux"

// ContractReader reads contracts, approvals and templates (filled in by the contracts read side).
type ContractReader interface{}

func (a *api) registerContracts(r *mux.Router) {}
