/* quickstart.c - libmsvc without any HTTP: open a service on an SQLite file
 * in the current directory, register a user, log in, check the token,
 * create two posts and list them newest first with their author.
 *
 * Build against an installed libmsvc:
 *   cc quickstart.c $(pkg-config --cflags --libs libmsvc) -o quickstart
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msvc.h>

static int fail(const char *what, int rc) {
  fprintf(stderr, "quickstart: %s: %s\n", what, msvc_strerror(rc));
  return 1;
}

static int create_post(msvc_t *svc, const msvc_user_t *author,
                       const char *title, const char *content) {
  msvc_post_input_t in = {strdup(title), strdup(content)};
  msvc_errors_t errs;
  msvc_post_t post;
  int rc;
  msvc_errors_init(&errs);
  rc = msvc_post_create(svc, author, &in, &post, &errs);
  msvc_post_input_clear(&in);
  if (rc == 0)
    printf("created post %s\n", post.id);
  msvc_post_clear(&post);
  return rc;
}

static int list_posts(msvc_t *svc) {
  msvc_list_request_t req = {"10", NULL, NULL};
  msvc_post_page_t page;
  msvc_errors_t errs;
  int rc;
  msvc_errors_init(&errs);
  rc = msvc_post_list(svc, &req, 0, NULL, &page, &errs);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < page.count; i++)
    printf("- %s by %s\n", page.posts[i].title,
           page.authors[i].id[0] ? page.authors[i].name : "(unknown)");
  msvc_post_page_clear(&page);
  return 0;
}

static int run(msvc_t *svc) {
  msvc_user_input_t in = {strdup("Ada Lovelace"), strdup("ada@example.com"),
                          strdup("correct horse battery staple"), NULL};
  msvc_login_result_t login;
  msvc_claims_t claims;
  msvc_errors_t errs;
  msvc_user_t user;
  int rc;

  msvc_errors_init(&errs);
  rc = msvc_register(svc, &in, &user, &errs);
  if (rc == MSVC_EEXIST)
    printf("ada@example.com is already registered; logging in\n");
  else if (rc != 0)
    return fail("register", rc);
  else
    printf("registered %s <%s> as %s\n", user.name, user.email, user.id);
  msvc_user_clear(&user);

  msvc_errors_init(&errs);
  rc = msvc_login(svc, &in, &login, &errs);
  msvc_user_input_clear(&in);
  if (rc != 0)
    return fail("login", rc);
  rc = msvc_authenticate(svc, login.token, strlen(login.token), &claims);
  printf("logged in; token valid for %lld s\n", (long long)login.expires_in);
  if (rc == 0)
    rc = create_post(svc, &login.user, "Hello", "My first post.");
  if (rc == 0)
    rc = create_post(svc, &login.user, "Again", "And a second one.");
  if (rc == 0)
    rc = list_posts(svc);
  msvc_login_result_clear(&login);
  return rc == 0 ? 0 : fail("posts", rc);
}

int main(void) {
  static const unsigned char secret[] = "example secret: use a random one";
  msvc_options_t opts;
  msvc_t *svc;
  char err[256];
  int rc;

  msvc_options_init(&opts);
  opts.database_url = "sqlite:quickstart.db";
  opts.jwt_secret = secret;
  opts.jwt_secret_len = sizeof(secret) - 1;
  rc = msvc_open(&opts, &svc, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "quickstart: cannot open: %s\n", err);
    return 1;
  }
  rc = run(svc);
  msvc_close(svc);
  return rc;
}
