/* custom_resolver.c - authors from your own directory instead of the store.
 *
 * A user resolver is a table of functions plus a context.  This one answers
 * from a fixed in-memory directory (think: your company's LDAP cache), so
 * posts written by its people show their directory names, whatever the
 * store holds.  It shows the three steps of any resolver: fill the slots
 * you know (msvc_user_set), leave the others untouched (id ""), and say
 * whether you could answer at all.
 *
 *   cc -std=c11 custom_resolver.c $(pkg-config --cflags --libs libmsvc)
 */
#include <stdio.h>
#include <string.h>

#include <msvc.h>

typedef struct entry {
  char id[MSVC_ID_SIZE];
  const char *name;
  const char *email;
} entry_t;

typedef struct directory {
  entry_t people[4];
  size_t count;
  unsigned long lookups;
} directory_t;

static int directory_resolve(void *ctx, const msvc_call_t *call,
                             const msvc_id_t *ids, size_t n,
                             msvc_user_t *const *out) {
  directory_t *dir = (directory_t *)ctx;
  (void)call; /* no I/O: MSVC_NOWAIT needs nothing special */
  dir->lookups++;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < dir->count; j++)
      if (strcmp(ids[i].hex, dir->people[j].id) == 0) {
        int rc = msvc_user_set(out[i], ids[i].hex, dir->people[j].name,
                               dir->people[j].email, 0, 0);
        if (rc != 0)
          return rc;
      }
  return 0;
}

static const msvc_resolver_methods_t
    directory_methods =
        {
            MSVC_RESOLVER_VERSION,
            "directory",
            directory_resolve,
            NULL /* ping */,
            NULL /* stats */,
            NULL /* destroy: the directory lives on main's stack */,
            NULL /* endpoint: no upstreams */};

static msvc_t *open_service(msvc_resolver_t *resolver) {
  static const char secret[] = "another secret of at least 32 bytes";
  msvc_options_t *opts = NULL;
  msvc_t *svc = NULL;
  char err[256] = "";
  if (msvc_options_new(&opts) == 0 &&
      msvc_options_set_database_url(opts, "sqlite:resolver.db") == 0 &&
      msvc_options_set_jwt_secret(opts, secret, strlen(secret)) == 0 &&
      msvc_options_set_resolver(opts, resolver) == 0 &&
      msvc_options_set_int(opts, MSVC_OPT_PASSWORD_COST, 4) == 0 &&
      msvc_open(opts, &svc, err, sizeof err) != 0)
    fprintf(stderr, "custom_resolver: open: %s\n", err);
  msvc_options_free(opts);
  return svc;
}

/* Registers a user (as the store knows them) and writes a post. */
static int write_post(msvc_t *svc, char author_id[MSVC_ID_SIZE]) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  msvc_post_input_t post = MSVC_POST_INPUT_INIT;
  msvc_user_t *user = NULL;
  int rc;
  in.name = "grace";
  in.email = "grace@example.com";
  in.password = "compilers are fun";
  rc = msvc_register(svc, NULL, &in, &user, NULL);
  if (rc != 0)
    return rc;
  memcpy(author_id, user->id, MSVC_ID_SIZE);
  post.title = "Nanoseconds";
  post.content = "A foot of wire.";
  rc = msvc_post_create(svc, NULL, user, &post, NULL, NULL);
  msvc_user_free(user);
  return rc;
}

int main(void) {
  directory_t dir;
  msvc_resolver_t *resolver = NULL;
  msvc_post_page_t *page = NULL;
  msvc_t *svc;
  int rc;
  memset(&dir, 0, sizeof dir);
  if (msvc_resolver_new(&directory_methods, &dir, &resolver) != 0)
    return 1;
  svc = open_service(resolver);
  if (svc == NULL) {
    msvc_resolver_free(resolver);
    return 1;
  }
  rc = write_post(svc, dir.people[0].id);
  dir.people[0].name = "Rear Admiral Grace Hopper";
  dir.people[0].email = "hopper@navy.example";
  dir.count = 1;
  if (rc == 0)
    rc = msvc_post_list(svc, NULL, NULL, &page, NULL);
  if (rc == 0 && page->count == 1 && page->authors[0] != NULL) {
    printf("%s by %s (from the directory, %lu lookup)\n", page->posts[0]->title,
           page->authors[0]->name, dir.lookups);
    rc = strcmp(page->authors[0]->name, dir.people[0].name) == 0 ? 0 : 1;
  } else if (rc == 0) {
    rc = 1;
  }
  if (rc != 0)
    fprintf(stderr, "custom_resolver: %s\n", msvc_strerror(rc));
  msvc_post_page_free(page);
  msvc_close(svc);
  msvc_resolver_free(resolver); /* after the service that borrowed it */
  return rc != 0;
}
