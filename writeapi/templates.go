package writeapi

import "github.com/gorilla/mux"

func (a *api) registerTemplates(r *mux.Router, d Deps) {}
