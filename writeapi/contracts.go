package writeapi

import "github.com/gorilla/mux"

func (a *api) registerContracts(r *mux.Router, d Deps) {}
