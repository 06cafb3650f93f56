/**
 * One e-mail, one look: the one normalisation every e-mail address goes through where it enters
 * (signup, login, the admin search, ADMIN_EMAILS), and the rules that refuse addresses which would
 * look like another account's. Modelled on PRECIS UsernameCaseMapped (RFC 8265) for the mapping
 * and on UTS #39 "Highly Restrictive" for the scripts; pure functions, no tables of our own (the
 * Unicode data is the engine's, through property escapes).
 *
 * It lives in config, the bottom of the module graph, because the configuration is read with it too
 * (ADMIN_EMAILS): config imports nothing from src, and common's validators import it from here.
 */

/**
 * Trim, width mapping (fullwidth and halfwidth forms to their ordinary letters, as PRECIS does:
 * an IME left in fullwidth mode types `ａｄａ`), NFC, lower case, and NFC again (lower-casing can
 * leave a sequence that composes). `toLowerCase` is Unicode's locale-independent full lower-case
 * mapping, not full case folding: `ß` stays `ß` (folding would merge it with `ss`, which mail
 * servers treat as a different mailbox), and no Turkish dotless-i rules.
 */
export function normalizeEmail(value: string): string {
  return value
    .trim()
    .replace(/[\uff01-\uffee]/g, (ch) => ch.normalize('NFKC'))
    .normalize('NFC')
    .toLowerCase()
    .normalize('NFC');
}

/** Why an address is refused, after the field's name ("email must not ..."). */
export const EMAIL_INVISIBLE = 'must not contain invisible or direction-control characters';
export const EMAIL_COMPATIBILITY =
  'must not contain compatibility characters (such as ligatures, superscripts or letter-like symbols); type the plain letters';
export const EMAIL_MIXED_SCRIPT =
  'must not mix scripts (such as Latin and Cyrillic) within its local part or within a domain label';

/**
 * Characters that show nothing or reorder what is shown: controls (Cc), format characters (Cf:
 * zero-width space and joiners, soft hyphen, BOM, the bidirectional marks, embeddings, overrides
 * and isolates, U+061C), every other Default_Ignorable_Code_Point (e.g. variation selectors,
 * Hangul fillers), unassigned (Cn) and private-use (Co) code points, and line/paragraph separators.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/u;

/**
 * Why a normalised address (normalizeEmail's output) would look like another one, or null when it
 * is fine. Checked at signup and for ADMIN_EMAILS; login and the admin search only normalise, so
 * that an account created before these rules can still sign in and be found.
 */
export function emailLookProblem(email: string): string | null {
  if (INVISIBLE.test(email)) return EMAIL_INVISIBLE;
  // Whatever NFKC still changes after the width mapping is a compatibility character: ℌ, ﬁ, ², ſ, µ.
  if (email.normalize('NFKC') !== email) return EMAIL_COMPATIBILITY;
  const at = email.lastIndexOf('@');
  const parts = at < 0 ? [email] : [email.slice(0, at), ...email.slice(at + 1).split('.')];
  if (parts.some((part) => !isRestrictedScript(part))) return EMAIL_MIXED_SCRIPT;
  return null;
}

/**
 * The ISO 15924 codes of Unicode's scripts (Common, Inherited and Unknown left out). Codes the
 * running engine does not know yet are skipped (see scriptPatterns), so the list may run ahead of
 * Node's Unicode version.
 */
const SCRIPT_CODES = (
  'Adlm Aghb Ahom Arab Armi Armn Avst Bali Bamu Bass Batk Beng Bhks Bopo Brah Brai Bugi Buhd Cakm Cans ' +
  'Cari Cham Cher Chrs Copt Cpmn Cprt Cyrl Deva Diak Dogr Dsrt Dupl Egyp Elba Elym Ethi Gara Geor Glag ' +
  'Gong Gonm Goth Gran Grek Gujr Gukh Guru Hang Hani Hano Hatr Hebr Hira Hluw Hmng Hmnp Hung Ital Java ' +
  'Kali Kana Kawi Khar Khmr Khoj Kits Knda Krai Kthi Lana Laoo Latn Lepc Limb Lina Linb Lisu Lyci Lydi ' +
  'Mahj Maka Mand Mani Marc Medf Mend Merc Mero Mlym Modi Mong Mroo Mtei Mult Mymr Nagm Nand Narb Nbat ' +
  'Newa Nkoo Nshu Ogam Olck Onao Orkh Orya Osge Osma Ougr Palm Pauc Perm Phag Phli Phlp Phnx Plrd Prti ' +
  'Rjng Rohg Runr Samr Sarb Saur Sgnw Shaw Shrd Sidd Sind Sinh Sogd Sogo Sora Soyo Sund Sunu Sylo Syrc ' +
  'Tagb Takr Tale Talu Taml Tang Tavt Tayo Telu Tfng Tglg Thaa Thai Tibt Tirh Tnsa Todr Tols Toto Tutg ' +
  'Ugar Vaii Vith Wara Wcho Xpeo Xsux Yezi Yiii Zanb'
).split(' ');

/** The script combinations UTS #39 "Highly Restrictive" allows beside a single script. */
const ALLOWED_COMBINATIONS = [
  ['Latn', 'Hani', 'Hira', 'Kana'],
  ['Latn', 'Hani', 'Bopo'],
  ['Latn', 'Hani', 'Hang'],
];

let patterns: Map<string, RegExp> | undefined;
function scriptPatterns(): Map<string, RegExp> {
  if (!patterns) {
    patterns = new Map();
    for (const code of SCRIPT_CODES) {
      try {
        patterns.set(code, new RegExp(`^\\p{Script_Extensions=${code}}$`, 'u'));
      } catch {
        // A script newer than this engine's Unicode data: no character of it can be in the text either.
      }
    }
  }
  return patterns;
}

/**
 * UTS #39 §5.1 on one label: the characters' Script_Extensions sets (Common and Inherited ones
 * count as every script) must share a script, or all fall within one allowed combination.
 * An all-Cyrillic, all-Greek or all-Latin label passes; `pаypal` with a Cyrillic `а` does not.
 */
export function isRestrictedScript(label: string): boolean {
  // Fast path: ASCII letters are all Latin, the rest of printable ASCII is Common.
  if (/^[ -~]*$/.test(label)) return true;
  const chars = Array.from(label).filter((ch) => !/^[\p{scx=Zyyy}\p{scx=Zinh}]$/u.test(ch));
  if (chars.length === 0) return true;
  const all = scriptPatterns();
  let shared = [...all.keys()];
  for (const ch of chars) {
    shared = shared.filter((code) => all.get(code)!.test(ch));
    if (shared.length === 0) break;
  }
  if (shared.length > 0) return true;
  return ALLOWED_COMBINATIONS.some((combo) =>
    chars.every((ch) => combo.some((code) => all.get(code)?.test(ch) ?? false)),
  );
}
