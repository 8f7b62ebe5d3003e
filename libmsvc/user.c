/* user.c - user structs' lifetimes and the validation rules for user input.
 *
 * The validators normalise in place first (names are trimmed, emails
 * trimmed and lower-cased), so the caller stores exactly what was checked,
 * whether or not the value passes.  They only ever add static reason
 * strings to errs, never replace an error a field already has, and report
 * MSVC_EVALIDATION whenever the field ends up with an error, including one
 * found before the call.  Lengths in characters count UTF-8 code points as
 * the bytes that are not continuation bytes, so malformed UTF-8 can skew a
 * count but never make it read past the string.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void msvc_user_clear(msvc_user_t *user) {
  if (user == NULL)
    return;
  free(user->name);
  free(user->email);
  memset(user, 0, sizeof(*user));
}

int msvc_user_copy(msvc_user_t *dst, const msvc_user_t *src) {
  memset(dst, 0, sizeof(*dst));
  if (src == NULL)
    return MSVC_EINVAL;
  memcpy(dst->id, src->id, sizeof(dst->id));
  dst->id[MSVC_ID_LEN] = '\0';
  dst->name = msvc__strdup(src->name);
  dst->email = msvc__strdup(src->email);
  dst->created_at = src->created_at;
  dst->updated_at = src->updated_at;
  if ((src->name != NULL && dst->name == NULL) ||
      (src->email != NULL && dst->email == NULL)) {
    msvc_user_clear(dst);
    return MSVC_ENOMEM;
  }
  return 0;
}

void msvc_users_free(msvc_user_t *users, size_t n) {
  if (users == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    msvc_user_clear(&users[i]);
  free(users);
}

void msvc_user_record_clear(msvc_user_record_t *rec) {
  if (rec == NULL)
    return;
  msvc_user_clear(&rec->user);
  if (rec->password_hash != NULL) {
    explicit_bzero(rec->password_hash, strlen(rec->password_hash));
    free(rec->password_hash);
  }
  memset(rec, 0, sizeof(*rec));
}

/* Wipes a secret before freeing it: freed heap memory may be handed out
 * again to code that renders responses. */
static void free_secret(char *s) {
  if (s == NULL)
    return;
  explicit_bzero(s, strlen(s));
  free(s);
}

void msvc_user_input_clear(msvc_user_input_t *in) {
  if (in == NULL)
    return;
  free(in->name);
  free(in->email);
  free_secret(in->password);
  free_secret(in->current_password);
  memset(in, 0, sizeof(*in));
}

/* ---- validation ---------------------------------------------------------- */

static void trim_in_place(char *s) {
  size_t start = 0, end = strlen(s);
  while (start < end && msvc__is_ascii_space((unsigned char)s[start]))
    start++;
  while (end > start && msvc__is_ascii_space((unsigned char)s[end - 1]))
    end--;
  memmove(s, s + start, end - start);
  s[end - start] = '\0';
}

static const char *name_problem(char *name) {
  size_t chars;
  if (name == NULL)
    return "is required";
  trim_in_place(name);
  chars = msvc__utf8_chars(name);
  if (chars == 0)
    return "must not be empty";
  if (chars > MSVC_NAME_MAX_CHARS)
    return "must be at most 100 characters";
  return NULL;
}

int msvc_validate_name(char *name, msvc_errors_t *errs) {
  return msvc__field_verdict(errs, "name", name_problem(name));
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

static const char *email_problem(char *email) {
  const char *at;
  size_t len;
  if (email == NULL)
    return "is required";
  trim_in_place(email);
  msvc__ascii_lower(email);
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

int msvc_validate_email(char *email, msvc_errors_t *errs) {
  return msvc__field_verdict(errs, "email", email_problem(email));
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
