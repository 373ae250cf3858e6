package meshconfig

import (
	"reflect"
	"testing"
)

func TestDomainsReadsBothForms(t *testing.T) {
	src := []byte(`{"Domains": {
  "": {"authStrategies": {"oidc": {"issuer": "https://a/", "client": {"client_secret": "${A}"}}}},
  "support": {"AuthStrategies": {"OIDC": {"Issuer": {"issuer": "https://b/"}, "ClientSecret": "${B}"}}},
  "plain": {"title": "x"},
  "authStrategies": {"oidc": {"issuer": "https://misplaced/"}}
}}`)
	got, err := Domains(src)
	if err != nil {
		t.Fatal(err)
	}
	want := []Domain{
		{Name: "", Issuer: "https://a/", ClientSecret: "${A}"},
		{Name: "support", Issuer: "https://b/", ClientSecret: "${B}"},
		{Name: "plain"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Domains = %+v\nwant %+v", got, want)
	}
}

func TestDomainsMixedCaseTwinWins(t *testing.T) {
	src := []byte(`{"domains": {"": {"authstrategies": {"oidc": {"issuer": "https://lower/"}},
  "AuthStrategies": {"oidc": {"issuer": "https://mixed/"}}}}}`)
	got, err := Domains(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Issuer != "https://mixed/" {
		t.Errorf("Domains = %+v, want the mixed-case block's issuer", got)
	}
}

func TestDomainsWithoutDomains(t *testing.T) {
	got, err := Domains([]byte(`{"settings": {}}`))
	if err != nil || len(got) != 0 {
		t.Errorf("Domains = %+v, %v; want none", got, err)
	}
}
