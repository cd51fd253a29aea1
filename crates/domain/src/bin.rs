//! The BIN (issuer identification number) table: which bank, network, card type and Turkish card
//! programme a card number belongs to, from its first 6 or 8 digits.
//!
//! Two public data sets under `data/bin/` are embedded at compile time (see `data/bin/README.md`):
//!
//! * `turkey_bin_list.csv` (MIT): ~1,875 Turkish BINs with network, type, category and issuer;
//! * `binlist_ranges.csv` (Apache-2.0): ~5,800 international IIN ranges from binlist/data.
//!
//! Both are parsed once, on first use, into sorted vectors searched by binary search. Neither set
//! names the Turkish card programme (Bonus, World, Axess, ...) nor the bank's EFT code, so the
//! issuer -> bank -> programme mapping is this module's own table (`ISSUERS`, `PROGRAMMES`).
//!
//! ```
//! use domain::bin;
//! use domain::enums::{CardAssociation, CardType};
//! let info = bin::lookup("5258640000000001").unwrap();
//! assert_eq!(info.bin, "525864");
//! assert_eq!(info.bank_code, Some(67));
//! assert_eq!(info.card_brand, Some("World"));
//! assert_eq!(info.association, Some(CardAssociation::MasterCard));
//! assert_eq!(info.card_type, Some(CardType::CreditCard));
//! assert!(bin::is_domestic(&info));
//! assert!(bin::lookup("12345").is_none());
//! ```

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::enums::{CardAssociation, CardType};

/// `BIN;Network;Type;Category;Issuer`, `;`-separated, UTF-8 with BOM, CRLF.
const TURKISH_CSV: &str = include_str!("../../../data/bin/turkey_bin_list.csv");
/// `iin_start,iin_end,number_length,number_luhn,scheme,brand,type,prepaid,country,bank_name,...`
const BINLIST_CSV: &str = include_str!("../../../data/bin/binlist_ranges.csv");

/// What Orkestra knows about a card from its leading digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinInfo {
    /// The prefix that matched (6 or 8 digits of the input).
    pub bin: String,
    pub card_type: Option<CardType>,
    pub association: Option<CardAssociation>,
    /// The Turkish card programme ("Bonus", "World", "Maximum", ...); see `PROGRAMMES`.
    pub card_brand: Option<&'static str>,
    /// Normalised display name ("Türkiye İş Bankası", "Garanti BBVA"), else the source's own text.
    pub bank_name: Option<String>,
    /// Turkish EFT/BKM bank code, as in `PosIntegrator::bank()`.
    pub bank_code: Option<u32>,
    /// Business / commercial / corporate / purchasing card.
    pub commercial: bool,
    /// ISO 3166 alpha-2; "TR" for every row of the Turkish list.
    pub country: Option<String>,
}

/// Looks a card number (or its first 6..19 digits) up.
///
/// Order: an 8-digit then a 6-digit exact match in the Turkish list, then the international ranges,
/// 8-digit ranges before 6-digit ones. `None` for anything that is not 6..=19 ASCII digits, or when
/// no table knows the prefix.
pub fn lookup(card_number_prefix: &str) -> Option<BinInfo> {
    tables().lookup(card_number_prefix)
}

/// A card issued in Turkey (Troy, or a Turkish bank's Visa/Mastercard/Amex).
pub fn is_domestic(info: &BinInfo) -> bool {
    info.country.as_deref() == Some("TR")
}

/// The credit-card programme a Turkish bank runs, by EFT code (see `PROGRAMMES`).
pub fn bank_programme(bank_code: u32) -> Option<&'static str> {
    PROGRAMMES
        .iter()
        .find(|p| p.bank_code == bank_code)
        .map(|p| p.name)
}

// ---------------------------------------------------------------------------------------------
// Issuer -> bank
// ---------------------------------------------------------------------------------------------

/// A bank (or other issuer) as Orkestra names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bank {
    /// EFT/BKM code; `None` for issuers that have none Orkestra can vouch for.
    code: Option<u32>,
    name: &'static str,
}

/// One normalisation rule: if the folded issuer text contains any pattern, it is this bank.
struct IssuerRule {
    /// Matched against the folded issuer (upper-case ASCII, Turkish letters folded, punctuation
    /// turned into single spaces, padded with a space at each end), so a pattern with spaces at
    /// its ends matches a whole word: `" ING "` matches "ING BANK, A.S." but not "BANKING".
    patterns: &'static [&'static str],
    bank: Bank,
}

const fn bank(code: u32, name: &'static str) -> Bank {
    Bank {
        code: Some(code),
        name,
    }
}

const fn no_code(name: &'static str) -> Bank {
    Bank { code: None, name }
}

const fn rule(patterns: &'static [&'static str], bank: Bank) -> IssuerRule {
    IssuerRule { patterns, bank }
}

/// Issuer text -> bank, first match wins (so the narrower rules come first: "VAKIF KATILIM" before
/// "VAKIF", "ZIRAAT KATILIM" before "ZIRAAT", "YAPI KREDI SIGORTA" before "YAPI KREDI").
///
/// Codes are the Turkish EFT/BKM bank codes. Eighteen of them are the ones
/// `PosIntegrator::bank()` uses (a test keeps codes and names in step); the others are the banks'
/// public EFT codes (Citibank 92, Turkish Bank 96, Turkland 108, ICBC Turkey 109, HSBC 123,
/// Alternatifbank 124, Burgan 125, Aktif 143, Odeabank 146, Golden Global 150, Albaraka 203,
/// Bank Asya 208, Emlak Katılım 211). The e-money institutions' codes (Türk Elektronik Para 6001,
/// Papara 6002, PTT 6003, ininal 6004, Turkcell Ödeme 6005, Paladyum 6006, Ozan 839, iyzico 864,
/// TT Ödeme 870, Lydians 890) are the member codes Turkish payment integrations use for them; they
/// are not TCMB EFT participant codes. Where no code is known the rule still gives a clean name
/// and the code is `None` rather than a guess.
///
/// Renamed or merged banks map to the bank that holds the BINs today: Finansbank -> QNB
/// Finansbank (renamed), Kuveyt Türk Evkaf Finans Kurumu -> Kuveyt Türk (old name), Oyak Bank ->
/// ING (bought and renamed 2008), Fortis -> TEB (merged 2011), Demirbank -> HSBC (bought and
/// renamed 2001), Koçbank -> Yapı Kredi (merged 2006), Pamukbank -> Halkbank (merged 2004),
/// Osmanlı Bankası -> Garanti (merged 2001), Tekstilbank -> ICBC Turkey (bought and renamed 2015),
/// Tekfenbank / Eurobank Tekfen -> Burgan Bank (renamed 2012), "DC BKM TFKB" -> Türkiye Finans
/// (TFKB is Türkiye Finans Katılım Bankası), "DC ABANK TURKEY" -> Alternatifbank (its ABank brand).
/// Banks closed by the SDIF around 2001 (Etibank, Toprakbank, İktisat, ...) keep their name and
/// no code.
const ISSUERS: &[IssuerRule] = &[
    // Narrow rules first.
    rule(&["ZIRAAT KATILIM"], bank(209, "Ziraat Katılım")),
    rule(&["ZIRAAT DINAMIK"], no_code("Ziraat Dinamik Banka")),
    rule(
        &["ZIRAAT FINANSAL"],
        no_code("Ziraat Finansal Teknolojiler"),
    ),
    rule(&["VAKIF KATILIM"], bank(210, "Vakıf Katılım")),
    rule(&["EMLAK KATILIM"], bank(211, "Emlak Katılım")),
    rule(&["YAPI KREDI SIGORTA"], no_code("Yapı Kredi Sigorta")),
    rule(&["TURKIYE EMLAK BANK"], no_code("Türkiye Emlak Bankası")),
    // The rest of the banks of `PosIntegrator::bank()`.
    rule(&["AKBANK"], bank(46, "Akbank")),
    rule(&["ANADOLUBANK", "ANADOLU BANK"], bank(135, "Anadolubank")),
    rule(&["DENIZBANK", "DENIZ BANK"], bank(134, "Denizbank")),
    rule(
        &["FINANSBANK", "FINANS BANK", " QNB "],
        bank(111, "QNB Finansbank"),
    ),
    rule(&["FIBABANK", "FIBA BANK"], bank(103, "Fibabanka")),
    rule(&["GARANTI", "OSMANLI BANK"], bank(62, "Garanti BBVA")),
    rule(
        &["HALK BANK", "HALKBANK", "PAMUKBANK", "PAMUK BANK"],
        bank(12, "Halkbank"),
    ),
    rule(&[" ING ", "OYAK BANK", "OYAKBANK"], bank(99, "ING Bank")),
    rule(&[" IS BANK"], bank(64, "Türkiye İş Bankası")),
    rule(&["KUVEYT"], bank(205, "Kuveyt Türk")),
    rule(&["TURK EKONOMI", " TEB ", "FORTIS"], bank(32, "TEB")),
    rule(&["VAKIF"], bank(15, "VakıfBank")),
    rule(
        &["YAPI VE KREDI", "YAPI KREDI", "KOCBANK", "KOC BANK"],
        bank(67, "Yapı Kredi"),
    ),
    rule(&["ZIRAAT"], bank(10, "Ziraat Bankası")),
    rule(&["TURKIYE FINANS", " TFKB "], bank(206, "Türkiye Finans")),
    rule(&["SEKERBANK", "SEKER BANK"], bank(59, "Şekerbank")),
    // Other banks.
    rule(&["ALBARAKA"], bank(203, "Albaraka Türk")),
    rule(&["ODEABANK", "ODEA BANK"], bank(146, "Odeabank")),
    rule(
        &["BURGAN", "EUROBANK TEKFEN", "TEKFENBANK", "TEKFEN BANK"],
        bank(125, "Burgan Bank"),
    ),
    rule(&["HSBC", "DEMIRBANK", "DEMIR BANK"], bank(123, "HSBC")),
    rule(&["ALTERNATIF", " ABANK "], bank(124, "Alternatifbank")),
    rule(
        &["ICBC", "TEKSTILBANK", "TEKSTIL BANK"],
        bank(109, "ICBC Turkey"),
    ),
    rule(&["CITIBANK"], bank(92, "Citibank")),
    rule(&["TURKISH BANK"], bank(96, "Turkish Bank")),
    rule(&["TURKLAND"], bank(108, "Turkland Bank")),
    rule(
        &["AKTIF YATIRIM", "AKTIFBANK", "AKTIF BANK"],
        bank(143, "Aktif Yatırım Bankası"),
    ),
    rule(
        &["GOLDEN GLOBAL"],
        bank(150, "Golden Global Yatırım Bankası"),
    ),
    // Bank Asya: licence revoked in 2016; its BINs are dead but still in the list.
    rule(&["ASYA KATILIM", "BANK ASYA"], bank(208, "Bank Asya")),
    // E-money and payment institutions.
    rule(&["TURK ELEKTRONIK"], bank(6001, "Türk Elektronik Para")),
    rule(&["PAPARA"], bank(6002, "Papara")),
    rule(
        &["POSTA VE TELGRAF", "POSTAL AND TELEGRAPH", " PTT "],
        bank(6003, "PTT"),
    ),
    rule(&["ININAL"], bank(6004, "ininal")),
    rule(&["TURKCELL ODEME"], bank(6005, "Turkcell Ödeme (Paycell)")),
    rule(&["PALADYUM"], bank(6006, "Paladyum")),
    rule(
        &["OZAN ELEKTRONIK", "OZANPAY"],
        bank(839, "Ozan Elektronik Para"),
    ),
    rule(&["IYZI ODEME"], bank(864, "iyzico")),
    rule(&[" TT ODEME "], bank(870, "TT Ödeme")),
    rule(&["LYDIANS"], bank(890, "Lydians")),
    rule(&["MOKA UNITED"], no_code("Moka United")),
    rule(&["SIPAY"], no_code("Sipay")),
    rule(&["FUPS BANK"], no_code("Fups Bank")),
    // Not banks: UATP airline accounts and Mastercard's own Maestro ranges.
    rule(&["TURKISH AIRLINES"], no_code("Turkish Airlines (UATP)")),
    rule(&["MAESTRO INTERNATIONAL"], no_code("Maestro International")),
    // Closed by the SDIF (TMSF) around 2001.
    rule(&["ETIBANK"], no_code("Etibank")),
    rule(&["TOPRAKBANK"], no_code("Toprakbank")),
    rule(&["IKTISAT BANK"], no_code("İktisat Bankası")),
];

/// Folds an issuer name for matching: Turkish letters to ASCII, upper case, every run of
/// non-alphanumerics to one space, padded with a space at both ends.
fn fold_issuer(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 2);
    out.push(' ');
    let mut last_was_space = true;
    for c in raw.chars() {
        let folded = match c {
            'ı' | 'i' | 'İ' | 'î' | 'Î' => 'I',
            'ş' | 'Ş' => 'S',
            'ğ' | 'Ğ' => 'G',
            'ü' | 'Ü' | 'û' | 'Û' => 'U',
            'ö' | 'Ö' => 'O',
            'ç' | 'Ç' => 'C',
            'â' | 'Â' => 'A',
            c if c.is_ascii_alphanumeric() => c.to_ascii_uppercase(),
            _ => ' ',
        };
        if folded == ' ' {
            if !last_was_space {
                out.push(' ');
                last_was_space = true;
            }
        } else {
            out.push(folded);
            last_was_space = false;
        }
    }
    if !last_was_space {
        out.push(' ');
    }
    out
}

/// The bank behind an issuer name, if a rule in [`ISSUERS`] recognises it.
fn resolve_issuer(raw: &str) -> Option<Bank> {
    let folded = fold_issuer(raw);
    if folded.trim().is_empty() {
        return None;
    }
    ISSUERS
        .iter()
        .find(|rule| rule.patterns.iter().any(|p| folded.contains(p)))
        .map(|rule| rule.bank)
}

// ---------------------------------------------------------------------------------------------
// Bank -> programme
// ---------------------------------------------------------------------------------------------

/// A Turkish credit-card programme run (or joined) by a bank.
struct Programme {
    bank_code: u32,
    name: &'static str,
    /// The bank also sells its debit cards under the programme.
    debit_too: bool,
}

const fn programme(bank_code: u32, name: &'static str, debit_too: bool) -> Programme {
    Programme {
        bank_code,
        name,
        debit_too,
    }
}

/// Bank -> card programme, from the banks' own public card pages (public knowledge).
///
/// Rule: a programme applies to CREDIT cards only; debit and prepaid cards get `None`, except
/// Ziraat, whose Bankkart Combo is one card that is both credit and debit. Banks not listed (or
/// when unsure) get `None` rather than a guess: Vakıf Katılım, Ziraat Katılım, Emlak Katılım,
/// Odeabank (Bank'O Card Axess earlier, own "Ayrıcalıklı" cards now), Burgan, Alternatif, ICBC,
/// Citibank, Aktif and the e-money institutions.
const PROGRAMMES: &[Programme] = &[
    // Yapı Kredi owns the World programme (Worldcard).
    programme(67, "World", false),
    // VakıfBank, Albaraka and Anadolubank issue Worldcards on Yapı Kredi's World programme
    // (Yapı Kredi's campaign terms list "Albaraka, Anadolubank ve Vakıfbank Worldcard'lar").
    programme(15, "World", false),
    programme(203, "World", false),
    programme(135, "World", false),
    // Garanti BBVA owns Bonus.
    programme(62, "Bonus", false),
    // Bonus partner banks: DenizBank and TEB joined Bonus; Şekerbank sells "Şeker Bonus Kart"
    // (it never ran Sağlam Kart, which is Kuveyt Türk's); Fibabanka sells "Fibabanka Bonus";
    // ING sells "ING Bonus Card" (ing.com.tr), not Advantage; Türkiye Finans' Happy Card runs on
    // the Bonus network.
    programme(134, "Bonus", false),
    programme(32, "Bonus", false),
    programme(59, "Bonus", false),
    programme(103, "Bonus", false),
    programme(99, "Bonus", false),
    programme(206, "Bonus", false),
    // Akbank owns Axess (Wings is Akbank's premium line on the same programme; we say Axess).
    programme(46, "Axess", false),
    // İş Bankası owns Maximum.
    programme(64, "Maximum", false),
    // QNB Finansbank owns CardFinans.
    programme(111, "CardFinans", false),
    // Halkbank owns Paraf.
    programme(12, "Paraf", false),
    // Ziraat's Bankkart Combo is one card with both credit and debit functions.
    programme(10, "Bankkart Combo", true),
    // Kuveyt Türk's participation credit card is Sağlam Kart.
    programme(205, "Sağlam Kart", false),
    // HSBC Türkiye's credit cards are "HSBC Advantage" (hsbc.com.tr; the Turkish list even labels
    // one HSBC BIN's category ADVANTAGE).
    programme(123, "Advantage", false),
];

/// The programme for a card of this bank and type (see [`PROGRAMMES`] for the rule).
fn programme_for(bank_code: Option<u32>, card_type: Option<CardType>) -> Option<&'static str> {
    let code = bank_code?;
    let programme = PROGRAMMES.iter().find(|p| p.bank_code == code)?;
    match card_type? {
        CardType::CreditCard => Some(programme.name),
        CardType::DebitCard if programme.debit_too => Some(programme.name),
        CardType::DebitCard | CardType::PrepaidCard => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Column values
// ---------------------------------------------------------------------------------------------

/// Network / scheme text -> association. CIRRUS (ATM-only), LOCAL BRAND, PRIVATE LABEL and UATP
/// have no Craftgate association and give `None`.
fn association_from(network: &str) -> Option<CardAssociation> {
    match network.trim().to_ascii_uppercase().as_str() {
        "VISA" => Some(CardAssociation::Visa),
        "MASTERCARD" | "MASTER CARD" | "MASTER_CARD" => Some(CardAssociation::MasterCard),
        "AMERICAN EXPRESS" | "AMEX" => Some(CardAssociation::Amex),
        "TROY" => Some(CardAssociation::Troy),
        "MAESTRO" => Some(CardAssociation::Maestro),
        "JCB" => Some(CardAssociation::Jcb),
        "CHINA UNION PAY" | "UNIONPAY" | "UNION PAY" => Some(CardAssociation::UnionPay),
        "DISCOVER" => Some(CardAssociation::Discover),
        "DINERS CLUB INTERNATIONAL" | "DINERS CLUB" | "DINERS" => Some(CardAssociation::DinersClub),
        _ => None,
    }
}

/// Type (and category) text -> card type. A PREPAID category wins over the type column, which
/// the Turkish list fills with DEBIT for prepaid cards.
fn card_type_from(kind: &str, category: &str) -> Option<CardType> {
    if category.to_ascii_uppercase().contains("PREPAID") {
        return Some(CardType::PrepaidCard);
    }
    match kind.trim().to_ascii_uppercase().as_str() {
        "CREDIT" => Some(CardType::CreditCard),
        "DEBIT" => Some(CardType::DebitCard),
        "PREPAID" => Some(CardType::PrepaidCard),
        _ => None,
    }
}

/// Category words that mark a business card.
fn is_commercial(category: &str) -> bool {
    let upper = category.to_ascii_uppercase();
    ["BUSINESS", "COMMERCIAL", "CORPORATE", "PURCHASING", "B2B"]
        .iter()
        .any(|w| upper.contains(w))
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

/// One row of the Turkish list, with its columns already interpreted.
#[derive(Debug)]
struct TurkishRow {
    bin: &'static str,
    card_type: Option<CardType>,
    association: Option<CardAssociation>,
    commercial: bool,
    issuer: &'static str,
    bank: Option<Bank>,
}

impl TurkishRow {
    fn info(&self) -> BinInfo {
        let bank_code = self.bank.and_then(|b| b.code);
        BinInfo {
            bin: self.bin.to_string(),
            card_type: self.card_type,
            association: self.association,
            card_brand: programme_for(bank_code, self.card_type),
            bank_name: self
                .bank
                .map(|b| b.name.to_string())
                .or_else(|| non_empty(self.issuer)),
            bank_code,
            commercial: self.commercial,
            country: Some("TR".to_string()),
        }
    }
}

/// One international range: every `digits`-long prefix from `start` to `end` inclusive.
#[derive(Debug)]
struct IntlRange {
    start: u64,
    end: u64,
    card_type: Option<CardType>,
    association: Option<CardAssociation>,
    commercial: bool,
    country: &'static str,
    bank_name: Cow<'static, str>,
    bank: Option<Bank>,
}

impl IntlRange {
    fn info(&self, prefix: &str) -> BinInfo {
        let bank_code = self.bank.and_then(|b| b.code);
        BinInfo {
            bin: prefix.to_string(),
            card_type: self.card_type,
            association: self.association,
            card_brand: programme_for(bank_code, self.card_type),
            bank_name: self
                .bank
                .map(|b| b.name.to_string())
                .or_else(|| non_empty(&self.bank_name)),
            bank_code,
            commercial: self.commercial,
            country: non_empty(self.country),
        }
    }
}

/// Both data sets, parsed and sorted.
#[derive(Debug, Default)]
struct Tables {
    /// Sorted by `bin` (6- and 8-digit rows together; exact-match lookups only). First row wins
    /// on a duplicate BIN.
    turkish: Vec<TurkishRow>,
    /// Sorted by `start`, non-overlapping within each length.
    ranges6: Vec<IntlRange>,
    ranges8: Vec<IntlRange>,
    /// Data lines that did not parse (the tests require zero).
    turkish_rejected: usize,
    intl_rejected: usize,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables::parse(TURKISH_CSV, BINLIST_CSV))
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

impl Tables {
    fn parse(turkish_csv: &'static str, binlist_csv: &'static str) -> Tables {
        let mut tables = Tables::default();
        tables.parse_turkish(turkish_csv);
        tables.parse_binlist(binlist_csv);
        tables
    }

    fn parse_turkish(&mut self, src: &'static str) {
        let src = src.strip_prefix('\u{feff}').unwrap_or(src);
        for (index, line) in src.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            if index == 0
                && line
                    .split(';')
                    .next()
                    .is_some_and(|f| f.trim().eq_ignore_ascii_case("BIN"))
            {
                continue;
            }
            match parse_turkish_row(line) {
                Some(row) => self.turkish.push(row),
                None => self.turkish_rejected += 1,
            }
        }
        self.turkish.sort_by(|a, b| a.bin.cmp(b.bin));
        self.turkish
            .dedup_by(|later, earlier| later.bin == earlier.bin);
    }

    fn parse_binlist(&mut self, src: &'static str) {
        let src = src.strip_prefix('\u{feff}').unwrap_or(src);
        for (index, line) in src.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || (index == 0 && line.starts_with("iin_start")) {
                continue;
            }
            match parse_binlist_row(line) {
                Some((8, range)) => self.ranges8.push(range),
                Some((_, range)) => self.ranges6.push(range),
                None => self.intl_rejected += 1,
            }
        }
        for ranges in [&mut self.ranges6, &mut self.ranges8] {
            ranges.sort_by_key(|r| (r.start, r.end));
            // An overlapping range could hide another from the binary search; keep the first.
            ranges.dedup_by(|later, earlier| later.start <= earlier.end);
        }
    }

    fn lookup(&self, input: &str) -> Option<BinInfo> {
        if !(6..=19).contains(&input.len()) || !is_digits(input) {
            return None;
        }
        for len in [8, 6] {
            let Some(prefix) = input.get(..len) else {
                continue;
            };
            if let Ok(i) = self.turkish.binary_search_by(|row| row.bin.cmp(prefix)) {
                return self.turkish.get(i).map(TurkishRow::info);
            }
        }
        for (len, ranges) in [(8, &self.ranges8), (6, &self.ranges6)] {
            let Some(prefix) = input.get(..len) else {
                continue;
            };
            let Ok(key) = prefix.parse::<u64>() else {
                continue;
            };
            let after = ranges.partition_point(|r| r.start <= key);
            if let Some(range) = after.checked_sub(1).and_then(|i| ranges.get(i))
                && key <= range.end
            {
                return Some(range.info(prefix));
            }
        }
        None
    }
}

/// `BIN;Network;Type;Category;Issuer`; `None` if the BIN is not 6 or 8 digits or a column is missing.
fn parse_turkish_row(line: &'static str) -> Option<TurkishRow> {
    let mut fields = line.splitn(5, ';');
    let bin = fields.next()?.trim();
    let network = fields.next()?;
    let kind = fields.next()?;
    let category = fields.next()?;
    let issuer = fields.next()?.trim();
    if !is_digits(bin) || !(bin.len() == 6 || bin.len() == 8) {
        return None;
    }
    Some(TurkishRow {
        bin,
        card_type: card_type_from(kind, category),
        association: association_from(network),
        commercial: is_commercial(category),
        issuer,
        bank: resolve_issuer(issuer),
    })
}

/// A binlist row and its prefix length (6 or 8); `None` if malformed.
fn parse_binlist_row(line: &'static str) -> Option<(usize, IntlRange)> {
    let fields = split_csv_line(line)?;
    let field = |i: usize| fields.get(i).map(|f| f.trim()).unwrap_or("");
    if fields.len() < 10 {
        return None;
    }
    let start_text = field(0);
    let end_text = field(1);
    let digits = start_text.len();
    if !is_digits(start_text) || !(digits == 6 || digits == 8) {
        return None;
    }
    let start = start_text.parse::<u64>().ok()?;
    let end = if end_text.is_empty() {
        start
    } else if is_digits(end_text) && end_text.len() == digits {
        end_text.parse::<u64>().ok()?
    } else {
        return None;
    };
    if end < start {
        return None;
    }
    let scheme = field(4);
    let brand = field(5);
    let association = if brand.eq_ignore_ascii_case("Maestro") {
        Some(CardAssociation::Maestro)
    } else {
        association_from(scheme)
    };
    let card_type = if field(7).eq_ignore_ascii_case("y") {
        Some(CardType::PrepaidCard)
    } else {
        card_type_from(field(6), "")
    };
    // `country` is never quoted in the file; a quoted one is kept only as an owned string.
    let country: &'static str = match fields.get(8) {
        Some(Cow::Borrowed(text)) => text.trim(),
        _ => "",
    };
    let bank_name = fields.get(9).cloned().unwrap_or(Cow::Borrowed(""));
    // Only Turkish banks are normalised: "ING" or "HSBC" elsewhere are other banks.
    let bank = if country == "TR" {
        resolve_issuer(&bank_name)
    } else {
        None
    };
    Some((
        digits,
        IntlRange {
            start,
            end,
            card_type,
            association,
            commercial: is_commercial(brand),
            country,
            bank_name,
            bank,
        },
    ))
}

/// Splits one RFC 4180 line (quoted fields may hold commas and `""`); `None` if a quote is
/// unterminated or followed by anything but a comma.
fn split_csv_line(line: &'static str) -> Option<Vec<Cow<'static, str>>> {
    let bytes = line.as_bytes();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'"') {
            let mut value = String::new();
            let mut j = i + 1;
            let mut segment = j;
            loop {
                match bytes.get(j) {
                    None => return None,
                    Some(b'"') => {
                        value.push_str(line.get(segment..j)?);
                        if bytes.get(j + 1) == Some(&b'"') {
                            value.push('"');
                            j += 2;
                            segment = j;
                        } else {
                            j += 1;
                            break;
                        }
                    }
                    Some(_) => j += 1,
                }
            }
            fields.push(Cow::Owned(value));
            match bytes.get(j) {
                None => return Some(fields),
                Some(b',') => i = j + 1,
                Some(_) => return None,
            }
        } else {
            let rest = line.get(i..)?;
            match rest.find(',') {
                Some(offset) => {
                    fields.push(Cow::Borrowed(rest.get(..offset)?));
                    i += offset + 1;
                }
                None => {
                    fields.push(Cow::Borrowed(rest));
                    return Some(fields);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::PosIntegrator;
    use std::collections::BTreeMap;

    /// Issuers with ≥ 5 rows that have no bank code, and why.
    const KNOWN_WITHOUT_CODE: &[(&str, &str)] = &[
        (
            "TURKISH AIRLINES (TK)",
            "UATP airline travel accounts, not a bank",
        ),
        ("TOPRAKBANK, A.S.", "closed by the SDIF in 2001"),
        ("ETIBANK", "closed by the SDIF in 2001"),
        ("IKTISAT BANKASI TURK, A.S.", "closed by the SDIF in 2001"),
        (
            "MOKA UNITED ODEME HIZMETLERI VE ELEKTRONIK PARA KURULUSU A.S",
            "e-money, code unknown",
        ),
        ("FUPS BANK ANONIM SIRKETI", "new bank, code unknown"),
    ];

    fn data_lines(src: &str) -> usize {
        src.lines()
            .filter(|l| !l.trim().is_empty())
            .count()
            .saturating_sub(1)
    }

    #[test]
    fn every_row_of_the_turkish_list_parses() {
        let t = tables();
        assert_eq!(t.turkish_rejected, 0);
        assert_eq!(t.turkish.len(), data_lines(TURKISH_CSV));
        assert_eq!(t.turkish.len(), 1875);
    }

    #[test]
    fn every_binlist_row_parses_and_ranges_do_not_overlap() {
        let t = tables();
        assert_eq!(t.intl_rejected, 0);
        assert_eq!(t.ranges6.len() + t.ranges8.len(), data_lines(BINLIST_CSV));
        for ranges in [&t.ranges6, &t.ranges8] {
            assert!(ranges.windows(2).all(|w| w[0].end < w[1].start));
        }
    }

    #[test]
    fn every_frequent_issuer_maps_to_a_bank_code() {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for row in &tables().turkish {
            if !row.issuer.is_empty() {
                *counts.entry(row.issuer).or_default() += 1;
            }
        }
        let unmapped: Vec<String> = counts
            .iter()
            .filter(|&(_, &n)| n >= 5)
            .filter(|(issuer, _)| resolve_issuer(issuer).and_then(|b| b.code).is_none())
            .filter(|(issuer, _)| !KNOWN_WITHOUT_CODE.iter().any(|(k, _)| k == *issuer))
            .map(|(issuer, n)| format!("{issuer} ({n} rows)"))
            .collect();
        assert!(
            unmapped.is_empty(),
            "issuers with >= 5 rows and no bank code: {unmapped:?}"
        );
        // The exceptions are still recognised, so they get a clean display name.
        for (issuer, _) in KNOWN_WITHOUT_CODE {
            assert!(resolve_issuer(issuer).is_some(), "{issuer}");
        }
    }

    #[test]
    fn bank_codes_and_names_agree_with_pos_integrators() {
        for integrator in PosIntegrator::ALL {
            let (code, name) = integrator.bank();
            let rule = ISSUERS.iter().find(|r| r.bank.code == Some(code));
            assert_eq!(rule.map(|r| r.bank.name), Some(name), "{integrator:?}");
        }
    }

    #[test]
    fn issuer_spellings_normalise() {
        let code = |raw: &str| resolve_issuer(raw).and_then(|b| b.code);
        assert_eq!(code("TÜRKİYE İŞ BANKASI A.Ş."), Some(64));
        assert_eq!(code("T. IS BANKASI, A.S."), Some(64));
        assert_eq!(code("YAPI VE KREDI BANKASI, A.S."), Some(67));
        assert_eq!(code("YAPI KREDI"), Some(67));
        assert_eq!(code("YAPI KREDI SIGORTA, A.S."), None);
        assert_eq!(code("Vakıf Katılım Bankası A.Ş."), Some(210));
        assert_eq!(code("TURKIYE VAKIFLAR BANKASI T.A.O."), Some(15));
        assert_eq!(code("VAKIFBANK"), Some(15));
        assert_eq!(code("ZIRAAT KATILIM BANKASI, A.S."), Some(209));
        assert_eq!(code("T.C. ZIRAAT BANKASI, A.S."), Some(10));
        assert_eq!(code("QNB BANK A.S"), Some(111));
        assert_eq!(code("TURKIYE FINANS KATILIM BANKASI , A.S."), Some(206));
        assert_eq!(code("ING, A.S."), Some(99));
        assert_eq!(code("ŞEKERBANK T.A.Ş."), Some(59));
        assert_eq!(code("KUVEYT TURK EVKAF FINANS KURUMU"), Some(205));
        assert_eq!(code("ODEA BANK A.S."), Some(146));
        assert_eq!(resolve_issuer("OPEN BANKING LTD"), None);
        assert_eq!(resolve_issuer(""), None);
        assert_eq!(resolve_issuer(" , "), None);
    }

    /// (bin, bank code, bank name, programme, association, card type, commercial)
    type Expect = (
        &'static str,
        u32,
        &'static str,
        Option<&'static str>,
        CardAssociation,
        CardType,
        bool,
    );

    fn check(&(bin, code, name, programme, association, card_type, commercial): &Expect) {
        let info = lookup(bin).unwrap_or_else(|| panic!("{bin} not found"));
        assert_eq!(info.bin, bin);
        assert_eq!(info.bank_code, Some(code), "{bin}");
        assert_eq!(info.bank_name.as_deref(), Some(name), "{bin}");
        assert_eq!(info.card_brand, programme, "{bin}");
        assert_eq!(info.association, Some(association), "{bin}");
        assert_eq!(info.card_type, Some(card_type), "{bin}");
        assert_eq!(info.commercial, commercial, "{bin}");
        assert_eq!(info.country.as_deref(), Some("TR"), "{bin}");
        assert!(is_domestic(&info));
    }

    #[test]
    fn known_turkish_bins_resolve() {
        use CardAssociation::*;
        use CardType::*;
        let rows: &[Expect] = &[
            // 403134;VISA;CREDIT;BUSINESS;DENIZBANK, A.S.
            (
                "403134",
                134,
                "Denizbank",
                Some("Bonus"),
                Visa,
                CreditCard,
                true,
            ),
            // 402458;VISA;CREDIT;CLASSIC;TURK EKONOMI BANKASI, A.S.
            ("402458", 32, "TEB", Some("Bonus"), Visa, CreditCard, false),
            // 400684;VISA;CREDIT;CLASSIC;ING BANK, A.S.
            (
                "400684",
                99,
                "ING Bank",
                Some("Bonus"),
                Visa,
                CreditCard,
                false,
            ),
            // 411156;VISA;CREDIT;CLASSIC;SEKERBANK T.A.S.
            (
                "411156",
                59,
                "Şekerbank",
                Some("Bonus"),
                Visa,
                CreditCard,
                false,
            ),
            // 400742;VISA;CREDIT;CLASSIC;TURKIYE FINANS KATILIM BANKASI, A.S.
            (
                "400742",
                206,
                "Türkiye Finans",
                Some("Bonus"),
                Visa,
                CreditCard,
                false,
            ),
            // 423495;VISA;CREDIT;PERSONAL;FIBABANKA
            (
                "423495",
                103,
                "Fibabanka",
                Some("Bonus"),
                Visa,
                CreditCard,
                false,
            ),
            // 434909;VISA;DEBIT;PREPAID;FIBABANKA, A.S.
            ("434909", 103, "Fibabanka", None, Visa, PrepaidCard, false),
            // 425846;VISA;CREDIT;GOLD;ANADOLUBANK, A.S.
            (
                "425846",
                135,
                "Anadolubank",
                Some("World"),
                Visa,
                CreditCard,
                false,
            ),
            // 402940;VISA;CREDIT;CLASSIC;TURKIYE VAKIFLAR BANKASI T.A.O.
            (
                "402940",
                15,
                "VakıfBank",
                Some("World"),
                Visa,
                CreditCard,
                false,
            ),
            // 404591;VISA;CREDIT;CLASSIC;T.C. ZIRAAT BANKASI, A.S.
            (
                "404591",
                10,
                "Ziraat Bankası",
                Some("Bankkart Combo"),
                Visa,
                CreditCard,
                false,
            ),
            // 979217;TROY;DEBIT;PERSONAL;ZIRAAT BANKASI (Bankkart Combo is credit and debit)
            (
                "979217",
                10,
                "Ziraat Bankası",
                Some("Bankkart Combo"),
                Troy,
                DebitCard,
                false,
            ),
            // 531133;MASTERCARD;DEBIT;STANDARD;VAKIF KATILIM BANKASI
            (
                "531133",
                210,
                "Vakıf Katılım",
                None,
                MasterCard,
                DebitCard,
                false,
            ),
            // 539134;MASTERCARD;CREDIT;PERSONAL;ZIRAAT KATILIM BANKASI, A.S.
            (
                "539134",
                209,
                "Ziraat Katılım",
                None,
                MasterCard,
                CreditCard,
                false,
            ),
            // 468791;VISA;CREDIT;PLATINUM;ODEA BANK, A.S.
            ("468791", 146, "Odeabank", None, Visa, CreditCard, false),
            // 483013;VISA;CREDIT;CLASSIC;BURGAN BANK
            ("483013", 125, "Burgan Bank", None, Visa, CreditCard, false),
            // 529799;MASTERCARD;DEBIT;PREPAID BUSINESS;PAPARA ...
            (
                "529799",
                6002,
                "Papara",
                None,
                MasterCard,
                PrepaidCard,
                true,
            ),
            // 375557;AMERICAN EXPRESS;CREDIT;;AKBANK T.A.S.
            (
                "375557",
                46,
                "Akbank",
                Some("Axess"),
                Amex,
                CreditCard,
                false,
            ),
            // 403666;VISA;CREDIT;CORPORATE T&E;TURKIYE GARANTI BANKASI A. S.
            (
                "403666",
                62,
                "Garanti BBVA",
                Some("Bonus"),
                Visa,
                CreditCard,
                true,
            ),
        ];
        rows.iter().for_each(check);
    }

    /// Craftgate's sandbox sample cards and decline cards, pinned to what the data says.
    #[test]
    fn craftgate_sandbox_bins() {
        use CardAssociation::*;
        use CardType::*;
        let rows: &[Expect] = &[
            // 525864;MASTERCARD;CREDIT;WORLD;YAPI VE KREDI BANKASI, A.S.
            (
                "525864",
                67,
                "Yapı Kredi",
                Some("World"),
                MasterCard,
                CreditCard,
                false,
            ),
            // 404308;VISA;CREDIT;GOLD;TURKIYE GARANTI BANKASI A. S.
            (
                "404308",
                62,
                "Garanti BBVA",
                Some("Bonus"),
                Visa,
                CreditCard,
                false,
            ),
            // 548237;MASTERCARD;CREDIT;GOLD;TURKIYE IS BANKASI, A.S.
            (
                "548237",
                64,
                "Türkiye İş Bankası",
                Some("Maximum"),
                MasterCard,
                CreditCard,
                false,
            ),
            // 540667;MASTERCARD;CREDIT;PLATINUM;TURKIYE IS BANKASI, A.S.
            (
                "540667",
                64,
                "Türkiye İş Bankası",
                Some("Maximum"),
                MasterCard,
                CreditCard,
                false,
            ),
            // 979267;TROY;CREDIT;PERSONAL;KUVEYT TURK EVKAF FINANS KURUMU
            (
                "979267",
                205,
                "Kuveyt Türk",
                Some("Sağlam Kart"),
                Troy,
                CreditCard,
                false,
            ),
            // Decline cards. 510005;MASTERCARD;CREDIT;STANDARD;HSBC BANK, A.S.
            (
                "510005",
                123,
                "HSBC",
                Some("Advantage"),
                MasterCard,
                CreditCard,
                false,
            ),
            // 511583;MASTERCARD;CREDIT;WORLD;ALBARAKA TURK KATILIM BANKASI A.S
            (
                "511583",
                203,
                "Albaraka Türk",
                Some("World"),
                MasterCard,
                CreditCard,
                false,
            ),
            // 510056;MASTERCARD;CREDIT;STANDARD;TURKIYE HALK BANKASI, A.S.
            (
                "510056",
                12,
                "Halkbank",
                Some("Paraf"),
                MasterCard,
                CreditCard,
                false,
            ),
            // 552608;MASTERCARD;CREDIT;PREFERRED BUSINESS;AKBANK T.A.S.
            (
                "552608",
                46,
                "Akbank",
                Some("Axess"),
                MasterCard,
                CreditCard,
                true,
            ),
            // 589004;MAESTRO;DEBIT;;AKBANK T.A.S.
            ("589004", 46, "Akbank", None, Maestro, DebitCard, false),
            // 402277;VISA;CREDIT;CLASSIC;QNB BANK A.S
            (
                "402277",
                111,
                "QNB Finansbank",
                Some("CardFinans"),
                Visa,
                CreditCard,
                false,
            ),
        ];
        rows.iter().for_each(check);
        // Full card numbers resolve to the same rows.
        assert_eq!(
            lookup("5258640000000001").map(|i| i.bin),
            Some("525864".to_string())
        );
        assert_eq!(
            lookup("9792670000000001").and_then(|i| i.association),
            Some(Troy)
        );
        // 540001 (Craftgate's foreign sample card) is in neither data set.
        assert_eq!(lookup("5400010000000004"), None);
        assert_eq!(lookup("540001"), None);
    }

    #[test]
    fn garbage_is_none() {
        for input in [
            "",
            "abc",
            "12345",
            "52586a",
            " 525864",
            "525864 ",
            "5258-6400",
            "12345678901234567890",
        ] {
            assert_eq!(lookup(input), None, "{input:?}");
        }
        // 6 and 19 digits are both accepted.
        assert!(lookup("525864").is_some());
        assert!(lookup("5258640000000000001").is_some());
    }

    #[test]
    fn eight_digit_rows_win_over_six_digit_rows() {
        let turkish = "\u{feff}BIN;Network;Type;Category;Issuer\r\n\
                       552608;MASTERCARD;CREDIT;PREFERRED BUSINESS;AKBANK T.A.S.\r\n\
                       55260812;VISA;DEBIT;;TURKIYE GARANTI BANKASI A.S.\r\n\
                       bad;row\r\n";
        let binlist = "iin_start,iin_end,number_length,number_luhn,scheme,brand,type,prepaid,country,bank_name,bank_logo,bank_url,bank_phone,bank_city\n\
                       411111,411113,,,visa,,credit,,US,\"BANK, N.A. \"\"TEST\"\"\",,,,\n\
                       41111200,,,,mastercard,,debit,y,GB,EIGHT,,,,\n\
                       999999,,,,visa,,credit,,TR,GARANTI,,,,\n\
                       12,,,,visa,,credit,,US,SHORT,,,,\n";
        let t = Tables::parse(turkish, binlist);
        assert_eq!((t.turkish.len(), t.turkish_rejected), (2, 1));
        assert_eq!(
            (t.ranges6.len(), t.ranges8.len(), t.intl_rejected),
            (2, 1, 1)
        );

        let eight = t.lookup("5526081234567890");
        assert_eq!(eight.as_ref().map(|i| i.bin.as_str()), Some("55260812"));
        assert_eq!(eight.as_ref().and_then(|i| i.bank_code), Some(62));
        assert_eq!(
            eight.as_ref().and_then(|i| i.card_brand),
            None,
            "debit gets no programme"
        );
        let six = t.lookup("5526089934567890");
        assert_eq!(six.as_ref().map(|i| i.bin.as_str()), Some("552608"));
        assert_eq!(six.as_ref().and_then(|i| i.bank_code), Some(46));
        // A 6-digit input cannot reach an 8-digit row.
        assert_eq!(t.lookup("552608").and_then(|i| i.bank_code), Some(46));

        let in_range = t.lookup("4111120011111111");
        assert_eq!(in_range.as_ref().map(|i| i.bin.as_str()), Some("41111200"));
        // No 8-digit range holds 41111211, so the 6-digit range 411111..=411113 answers.
        let middle = t.lookup("4111121111111111");
        assert_eq!(middle.as_ref().map(|i| i.bin.as_str()), Some("411112"));
        let range6 = t.lookup("4111131111111111");
        assert_eq!(
            range6.as_ref().and_then(|i| i.bank_name.as_deref()),
            Some("BANK, N.A. \"TEST\"")
        );
        assert_eq!(range6.as_ref().map(|i| i.bin.as_str()), Some("411113"));
        let eight_range = t.lookup("41111200");
        assert_eq!(
            eight_range.as_ref().and_then(|i| i.card_type),
            Some(CardType::PrepaidCard)
        );
        assert_eq!(
            eight_range.as_ref().and_then(|i| i.association),
            Some(CardAssociation::MasterCard)
        );
        assert_eq!(t.lookup("411114"), None);
        // Turkish banks named in binlist are normalised too.
        let tr = t.lookup("999999");
        assert_eq!(tr.as_ref().and_then(|i| i.bank_code), Some(62));
        assert_eq!(tr.as_ref().and_then(|i| i.card_brand), Some("Bonus"));
        assert!(tr.as_ref().is_some_and(is_domestic));
    }

    #[test]
    fn international_ranges() {
        // 341142,,,,amex,,credit,,US,AMERICAN EXPRESS
        let amex = lookup("341142000000000").expect("amex");
        assert_eq!(amex.bin, "341142");
        assert_eq!(amex.association, Some(CardAssociation::Amex));
        assert_eq!(amex.card_type, Some(CardType::CreditCard));
        assert_eq!(amex.country.as_deref(), Some("US"));
        assert_eq!(amex.bank_name.as_deref(), Some("AMERICAN EXPRESS"));
        assert_eq!(amex.bank_code, None);
        assert_eq!(amex.card_brand, None);
        assert!(!is_domestic(&amex));
        // 371241,371242,,,amex,...,US: both ends of a range.
        for number in ["371241000000000", "371242999999999"] {
            let info = lookup(number).expect("amex range");
            assert_eq!(info.association, Some(CardAssociation::Amex));
            assert_eq!(info.country.as_deref(), Some("US"));
        }
        // 45710536 (Danske Bank, 8 digits) beats 457105 (Sparekassen Sjælland, 6 digits).
        let eight = lookup("4571053600000000").expect("8-digit range");
        assert_eq!(eight.bin, "45710536");
        assert_eq!(eight.bank_name.as_deref(), Some("Danske Bank"));
        let six = lookup("4571059900000000").expect("6-digit range");
        assert_eq!(six.bin, "457105");
        assert_eq!(six.bank_name.as_deref(), Some("Sparekassen Sjælland"));
        assert_eq!(six.country.as_deref(), Some("DK"));
        // The Turkish list wins over binlist for a BIN both hold (404308, Garanti in both).
        assert_eq!(
            lookup("404308").and_then(|i| i.bank_name),
            Some("Garanti BBVA".to_string())
        );
    }

    #[test]
    fn rows_without_issuer_or_association() {
        // 979200;TROY;DEBIT;; — no issuer.
        let info = lookup("979200").expect("troy row");
        assert_eq!(info.association, Some(CardAssociation::Troy));
        assert_eq!(
            (info.bank_code, info.bank_name.as_deref(), info.card_brand),
            (None, None, None)
        );
        assert!(is_domestic(&info));
        // 999111;PRIVATE LABEL;;; — nothing but the BIN.
        let info = lookup("999111").expect("private label row");
        assert_eq!((info.association, info.card_type), (None, None));
        // 637060;PRIVATE LABEL;DEBIT;PREPAID;ISTANBUL TRANSPORT CARD — unmapped issuer keeps its text.
        let info = lookup("637060").expect("istanbulkart");
        assert_eq!(info.bank_name.as_deref(), Some("ISTANBUL TRANSPORT CARD"));
        assert_eq!(info.card_type, Some(CardType::PrepaidCard));
    }

    #[test]
    fn bank_programme_table() {
        assert_eq!(bank_programme(64), Some("Maximum"));
        assert_eq!(bank_programme(111), Some("CardFinans"));
        assert_eq!(bank_programme(210), None);
        // One entry per bank.
        for (i, p) in PROGRAMMES.iter().enumerate() {
            assert!(
                PROGRAMMES
                    .iter()
                    .skip(i + 1)
                    .all(|q| q.bank_code != p.bank_code)
            );
        }
    }
}
