package writeapi

import "github.com/gorilla/mux"

func (a *api) registerSeals(r *mux.Router, d Deps) {}
