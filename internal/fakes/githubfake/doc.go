// Package githubfake serves the part of GitHub's REST API that the action
// uses, on 127.0.0.1, and checks every request against GitHub's contract.
//
// # Starting
//
// [New] starts an HTTPS server (or plain HTTP with [Options.PlainHTTP]).
// Point go-github at [Server.URL] (it ends in a slash, as BaseURL must) and
// send requests through [Server.HTTPClient], which trusts the server's
// certificate; [Server.CertificatePEM] gives the certificate to a separate
// process. Seed state with [Server.AddRepository], [Server.AddEnvironment]
// and [Server.AddToken] before the code under test runs.
//
// # Contract checks
//
// A request that GitHub would reject for its shape gets GitHub's response
// and is also recorded in [Server.Violations]: an unknown
// method and path, a missing or malformed Authorization header, a JSON body
// with unknown fields or without a required field, a secret sealed with a
// key other than the current public key. A test that drives the product
// through the happy path should find Violations empty. Answers that depend
// on state (a missing file, an existing pull request, a non-fast-forward
// update) are not violations: GitHub gives them to correct clients too.
//
// # State
//
// Repositories hold real git objects: blobs, trees and commits are hashed
// the way git hashes them, so SHAs match what git would compute for the same
// content, author and time. Branches are refs under refs/heads/. Pull
// requests, issue comments, labels, Actions secrets and variables (for the
// repository and for each environment) live beside them. All state is kept
// in memory and guarded by one lock. The hooks ([Server.File],
// [Server.SecretPlaintext], [Server.PullRequests] and the rest) read it
// directly, and the mutators ([Server.CommitFile], [Server.DeleteSecret],
// [Server.OpenPullRequest]) change it the way another actor would.
//
// # Failures
//
// [Server.SetFault] fails chosen requests with a 500 or a dropped connection,
// [Server.RateLimitWrites] rejects content-creating requests with GitHub's
// secondary rate limit, [Server.SetActionsCannotCreatePullRequests] makes pull
// request creation fail as it does for a workflow whose repository forbids
// it, and [Server.SetLatency] slows every response.
package githubfake
