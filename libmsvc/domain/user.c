/* user.c - the validation rules for user input.
 *
 * The validators judge a value as the library will store it (names
 * trimmed, emails trimmed and lower-cased) without touching the caller's
 * string: the service normalises its own copy with msvc__normalize_name /
 * msvc__normalize_email, the same functions the validators use.  They only
 * ever add reasons to errs, never replace an error a field already has,
 * and report MSVC_EVALIDATION whenever the field ends up with an error,
 * including one found before the call.  Lengths in characters count UTF-8
 * code points as the bytes that are not continuation bytes, so malformed
 * UTF-8 can skew a count but never make it read past the string.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/validate.h"

/* ---- validation ---------------------------------------------------------- */

char *msvc__normalize_name(const char *name) {
  return msvc__strdup_trimmed(name, strlen(name));
}

char *msvc__normalize_email(const char *email) {
  char *e = msvc__strdup_trimmed(email, strlen(email));
  if (e != NULL)
    msvc__ascii_lower(e);
  return e;
}

/* Judges an already normalised name. */
static const char *name_problem(const char *name) {
  size_t chars;
  if (name == NULL)
    return "is required";
  chars = msvc__utf8_chars(name);
  if (chars == 0)
    return "must not be empty";
  if (chars > MSVC_NAME_MAX_CHARS)
    return "must be at most 100 characters";
  return NULL;
}

int msvc__check_name(const char *normalized, msvc_errors_t *errs) {
  return msvc__field_verdict(errs, "name", name_problem(normalized));
}

/* Normalises a copy, then judges it: what the public validators share. */
static int check_copy(const char *value, char *(*normalize)(const char *),
                      int (*check)(const char *, msvc_errors_t *),
                      msvc_errors_t *errs) {
  char *copy = NULL;
  int rc;
  if (value != NULL && (copy = normalize(value)) == NULL)
    return MSVC_ENOMEM;
  rc = check(copy, errs);
  free(copy);
  return rc;
}

int msvc_validate_name(const char *name, msvc_errors_t *errs) {
  return check_copy(name, msvc__normalize_name, msvc__check_name, errs);
}

/* RFC 5322 specials and the double quote: legal only inside a quoted
 * local part, which no plausible sign-up address needs. */
static int is_special(unsigned char c) {
  return c != '\0' && strchr("()<>[]:;@\\,\"", c) != NULL;
}

static int local_part_ok(const char *s, size_t len) {
  if (len == 0 || len > 64 || s[0] == '.' || s[len - 1] == '.')
    return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= ' ' || c == 0x7f || is_special(c))
      return 0;
    if (c == '.' && s[i + 1] == '.')
      return 0;
  }
  return 1;
}

static int label_char_ok(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c >= 0x80; /* IDN labels in their UTF-8 form */
}

/* One DNS label: 1 to 63 bytes, no hyphen at either end. */
static int label_ok(const char *s, size_t len) {
  if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
    return 0;
  for (size_t i = 0; i < len; i++)
    if (!label_char_ok((unsigned char)s[i]))
      return 0;
  return 1;
}

static int all_digits(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

/* At least two labels; a numeric top-level label would be an IP address
 * written without brackets, not a mail domain. */
static int domain_ok(const char *s) {
  const char *dot, *label = s;
  size_t nlabels = 0, len;
  for (;;) {
    dot = strchr(label, '.');
    len = dot ? (size_t)(dot - label) : strlen(label);
    if (!label_ok(label, len))
      return 0;
    nlabels++;
    if (dot == NULL)
      break;
    label = dot + 1;
  }
  return nlabels >= 2 && !all_digits(label, len);
}

/* Judges an already normalised email. */
static const char *email_problem(const char *email) {
  const char *at;
  size_t len;
  if (email == NULL)
    return "is required";
  len = strlen(email);
  if (len == 0)
    return "must not be empty";
  if (len > MSVC_EMAIL_MAX_BYTES)
    return "must be at most 254 bytes";
  at = strchr(email, '@');
  if (at == NULL || strchr(at + 1, '@') != NULL ||
      !local_part_ok(email, (size_t)(at - email)) || !domain_ok(at + 1))
    return "must be a valid email address";
  return NULL;
}

int msvc__check_email(const char *normalized, msvc_errors_t *errs) {
  return msvc__field_verdict(errs, "email", email_problem(normalized));
}

int msvc_validate_email(const char *email, msvc_errors_t *errs) {
  return check_copy(email, msvc__normalize_email, msvc__check_email, errs);
}

static const char *password_problem(const char *password) {
  size_t len;
  if (password == NULL)
    return "is required";
  len = strlen(password);
  if (len < MSVC_PASSWORD_MIN_BYTES)
    return "must be at least 8 bytes";
  if (len > MSVC_PASSWORD_MAX_BYTES)
    return "must be at most 72 bytes";
  return NULL;
}

int msvc_validate_password(const char *field, const char *password,
                           msvc_errors_t *errs) {
  if (field == NULL)
    field = "password";
  return msvc__field_verdict(errs, field, password_problem(password));
}
