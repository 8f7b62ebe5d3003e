/* quickstart.c - libmsvc without any HTTP: open a service on an SQLite file
 * in the current directory, register a user, log in, check the token,
 * create two posts and list them newest first with their author.
 *
 * Build against an installed libmsvc (strict C11 is enough):
 *   cc -std=c11 quickstart.c $(pkg-config --cflags --libs libmsvc)
 */
#include <stdio.h>
#include <string.h>

#include <msvc.h>

static int fail(msvc_t *svc, const char *what, int rc) {
  fprintf(stderr, "quickstart: %s: %s (%s)\n", what, msvc_strerror(rc),
          svc != NULL ? msvc_errmsg(svc) : "");
  return 1;
}

/* Prints each field error, as an HTTP server would put them in a 422. */
static void print_errors(const msvc_errors_t *errs) {
  for (size_t i = 0; i < msvc_errors_count(errs); i++)
    fprintf(stderr, "  %s %s\n", msvc_errors_field(errs, i),
            msvc_errors_reason(errs, i));
}

static msvc_t *open_service(void) {
  static const char secret[] = "a secret of at least 32 bytes, please!";
  msvc_options_t *opts = NULL;
  msvc_t *svc = NULL;
  char err[256];
  int rc = msvc_options_new(&opts);
  if (rc == 0)
    rc = msvc_options_set_database_url(opts, "sqlite:quickstart.db");
  if (rc == 0)
    rc = msvc_options_set_jwt_secret(opts, secret, strlen(secret));
  if (rc == 0)
    rc = msvc_options_set_int(opts, MSVC_OPT_PASSWORD_COST, 4); /* a demo */
  if (rc == 0 && msvc_open(opts, &svc, err, sizeof err) != 0)
    fprintf(stderr, "quickstart: open: %s\n", err);
  msvc_options_free(opts);
  return svc;
}

static int register_and_login(msvc_t *svc, msvc_claims_t **claims) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  msvc_login_result_t *login = NULL;
  msvc_errors_t *errs = NULL;
  msvc_user_t *user = NULL;
  int rc = msvc_errors_new(&errs);
  in.name = "  Ada Lovelace ";  /* trimmed by the library */
  in.email = "Ada@Example.com"; /* stored lower-cased */
  in.password = "correct horse battery";
  if (rc == 0)
    rc = msvc_register(svc, NULL, &in, &user, errs);
  if (rc != 0) {
    print_errors(errs);
    msvc_errors_free(errs);
    return fail(svc, "register", rc);
  }
  printf("registered %s <%s> as %s\n", user->name, user->email, user->id);
  msvc_user_free(user);
  msvc_errors_free(errs);

  rc = msvc_login(svc, NULL, &in, &login, NULL, NULL);
  if (rc != 0)
    return fail(svc, "login", rc);
  printf("logged in: token valid for %lld s\n", (long long)login->expires_in);
  rc = msvc_authenticate(svc, NULL, login->token, strlen(login->token), claims);
  msvc_login_result_free(login);
  return rc != 0 ? fail(svc, "authenticate", rc) : 0;
}

static int create_post(msvc_t *svc, const msvc_claims_t *claims,
                       const char *title, const char *content) {
  msvc_post_input_t in = MSVC_POST_INPUT_INIT;
  msvc_post_t *post = NULL;
  int rc;
  in.title = title;
  in.content = content;
  rc =
      msvc_post_create(svc, NULL, msvc_claims_author(claims), &in, &post, NULL);
  if (rc != 0)
    return fail(svc, "create post", rc);
  printf("created post %s\n", post->id);
  msvc_post_free(post);
  return 0;
}

static int list_posts(msvc_t *svc) {
  msvc_list_request_t req = MSVC_LIST_REQUEST_INIT;
  msvc_post_page_t *page = NULL;
  int rc;
  req.limit = 10;
  rc = msvc_post_list(svc, NULL, &req, &page, NULL);
  if (rc != 0)
    return fail(svc, "list posts", rc);
  for (size_t i = 0; i < page->count; i++)
    printf("- %s by %s\n", page->posts[i]->title,
           page->authors[i] != NULL ? page->authors[i]->name : "(unknown)");
  msvc_post_page_free(page);
  return 0;
}

int main(void) {
  msvc_claims_t *claims = NULL;
  msvc_t *svc = open_service();
  int failed;
  if (svc == NULL)
    return 1;
  failed = register_and_login(svc, &claims) ||
           create_post(svc, claims, "Hello", "My first post.") ||
           create_post(svc, claims, "Again", "And a second one.") ||
           list_posts(svc);
  msvc_claims_free(claims);
  msvc_close(svc);
  return failed;
}
