package githubfake

// routes registers every endpoint the fake serves. The paths are the ones
// go-github v60 builds. Environment secrets and variables are served both
// under /repositories/{id} (go-github's form) and /repos/{owner}/{repo}.
func (s *Server) routes() {
	const repo = "/repos/{owner}/{repo}"
	s.handle("GET "+repo, s.getRepo)
	s.handle("GET /repositories/{id}", s.getRepo)
	s.handle("GET "+repo+"/contents/{path...}", s.getContents)
	s.handle("PUT "+repo+"/contents/{path...}", s.putContents)
	s.handle("GET "+repo+"/branches/{branch...}", s.getBranch)
	s.handle("GET "+repo+"/environments", s.listEnvironments)
	s.handle("GET "+repo+"/environments/{env}", s.getEnvironment)

	s.handle("GET "+repo+"/git/ref/{ref...}", s.getRef)
	s.handle("GET "+repo+"/git/refs/{ref...}", s.getRef)
	s.handle("POST "+repo+"/git/refs", s.createRef)
	s.handle("PATCH "+repo+"/git/refs/{ref...}", s.updateRef)
	s.handle("DELETE "+repo+"/git/refs/{ref...}", s.deleteRef)
	s.handle("GET "+repo+"/git/commits/{sha}", s.getCommit)
	s.handle("POST "+repo+"/git/commits", s.createCommit)
	s.handle("GET "+repo+"/git/blobs/{sha}", s.getBlob)
	s.handle("POST "+repo+"/git/blobs", s.createBlob)
	s.handle("GET "+repo+"/git/trees/{sha}", s.getTree)
	s.handle("POST "+repo+"/git/trees", s.createTree)

	s.handle("GET "+repo+"/pulls", s.listPulls)
	s.handle("POST "+repo+"/pulls", s.createPull)
	s.handle("GET "+repo+"/pulls/{number}", s.getPull)
	s.handle("PATCH "+repo+"/pulls/{number}", s.updatePull)
	s.handle("GET "+repo+"/pulls/{number}/files", s.pullFiles)
	for _, method := range []string{"GET", "POST", "PATCH", "DELETE"} {
		s.handle(method+" "+repo+"/issues/{a}/{b}", s.issueRoute)
	}

	for _, prefix := range []string{
		repo + "/actions",
		repo + "/environments/{env}",
		"/repositories/{id}/environments/{env}",
	} {
		s.handle("GET "+prefix+"/secrets/public-key", s.getPublicKey)
		s.handle("GET "+prefix+"/secrets", s.listSecrets)
		s.handle("GET "+prefix+"/secrets/{name}", s.getSecret)
		s.handle("PUT "+prefix+"/secrets/{name}", s.putSecret)
		s.handle("DELETE "+prefix+"/secrets/{name}", s.deleteSecret)
		s.handle("GET "+prefix+"/variables", s.listVariables)
		s.handle("POST "+prefix+"/variables", s.createVariable)
		s.handle("GET "+prefix+"/variables/{name}", s.getVariable)
		s.handle("PATCH "+prefix+"/variables/{name}", s.updateVariable)
		s.handle("DELETE "+prefix+"/variables/{name}", s.deleteVariable)
	}
}
