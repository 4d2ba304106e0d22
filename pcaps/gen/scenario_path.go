package gen

// PathScenario scripts one call as two gateway boxes see it, for the
// central store's cross-gateway path (package central): the same called
// number half a second apart, the caller ID changed between them
// (85291234567 entering box A from intl-pacific, 95588 entering box B from
// ic-telecom). Each is a scenario file for LoadScenario (`gen --scenario`).
var PathScenario = [2]string{`calls:
  - label: hop1
    partner: intl-pacific
    direction: ingress
    at: 30s
    calling: {digits: "85291234567", nai: 4}
    called: {digits: "13812345678", nai: 3}
    answer: 3s
    release: 20s
    released_by: calling
    cause: 16
`, `calls:
  - label: hop2
    partner: ic-telecom
    direction: ingress
    at: 30500ms
    calling: {digits: "95588", nai: 3}
    called: {digits: "13812345678", nai: 3}
    answer: 2500ms
    release: 19s
    released_by: calling
    cause: 16
`}
