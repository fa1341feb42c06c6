"""Active ISO 4217 currency codes, from Table A.1 (current currency and funds codes) of the standard.

The maintenance agency of ISO 4217 (SIX Group) publishes changes as numbered amendments. This
set includes amendment 178 of February 2025, which withdrew the Cuban convertible peso (CUC),
and amendment 176, which replaced the Netherlands Antillean guilder (ANG) with the Caribbean
guilder (XCG) from 31 March 2025. Add and remove codes here when a new amendment takes effect.
"""

# Besides national currencies, Table A.1 lists fund codes (such as BOV, CHE, USN), precious
# metals (XAG, XAU, XPD, XPT), units of account (XDR, XSU, XUA, XBA-XBD), the testing code XTS
# and XXX for transactions without a currency. They stay here, because the standard lists them.
#
# NOTE: the lev (BGN) is left out because Bulgaria adopted the euro on 1 January 2026, but the
# amendment that moves BGN to the historic codes is not confirmed here.
ACTIVE_CURRENCY_CODES: frozenset[str] = frozenset({
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN",
    "BAM", "BBD", "BDT", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK",
    "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR",
    "FJD", "FKP",
    "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD",
    "HKD", "HNL", "HTG", "HUF",
    "IDR", "ILS", "INR", "IQD", "IRR", "ISK",
    "JMD", "JOD", "JPY",
    "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
    "LAK", "LBP", "LKR", "LRD", "LSL", "LYD",
    "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN",
    "NAD", "NGN", "NIO", "NOK", "NPR", "NZD",
    "OMR",
    "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
    "QAR",
    "RON", "RSD", "RUB", "RWF",
    "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL",
    "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",
    "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS",
    "VED", "VES", "VND", "VUV",
    "WST",
    "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XTS",
    "XUA", "XXX",
    "YER",
    "ZAR", "ZMW", "ZWG",
})
