// MeshCentral 1.1.55 gives its generated certificates a random serial
// number that is sometimes negative in DER, which Go rejects by default
// since Go 1.23. The tests trust MeshCentral's own root certificate, so
// they accept such serials; the product's binary keeps the default.

//go:debug x509negativeserial=1

package signin
