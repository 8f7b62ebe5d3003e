/* page.c - the memory of a page of posts, and the sink a store fills it
 * through.
 *
 * A page (msvc_post_page_t) sits at the start of a page_block that also
 * holds everything the page points to, so that reading a page of twenty
 * posts costs a handful of allocations, not a hundred and fifty:
 *
 *   - one block for the pointer arrays the page hands out (posts, authors,
 *     and the users' slots for the store) and the structs they point to;
 *   - when the page is read through a sink (msvc_page_sink_add), an arena
 *     that holds every string of every row: room at the block's tail,
 *     then chunks of its own; a row's strings are one carve, and the page
 *     frees the chunks, not the strings;
 *   - the next cursor, in the block itself.
 *
 * Invariant: the strings of the post slots are either all the arena's
 * (the page was read through a page sink: `posts_in_arena`) or all
 * malloc'd (a store's post_list), and so are those of the user slots
 * (`users_in_arena`: read with the posts; else a resolver filled them);
 * msvc_post_page_free frees each kind its own way.
 *
 * A sink over caller-given slots instead (msvc__page_sink_slots, behind the
 * public msvc_store_post_list_authors) malloc's each string, like every
 * record the public API hands out.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/validate.h"
#include "internal.h"

/* The arena's room inside the page's block, per row: a post's title and
 * content as the seed's clients write them, and with an author its name
 * and email.  Rows that need more take chunks of CHUNK_BYTES. */
#define SPARE_PER_POST 160
#define SPARE_PER_ROW 224
#define CHUNK_BYTES 16384

typedef struct chunk {
  struct chunk *next;
  size_t used, cap;
  char data[];
} chunk_t;

typedef struct page_block {
  msvc_post_page_t page;
  size_t nslots;
  msvc_post_t *post_slots;
  msvc_user_t **user_ptrs; /* the slots below, for the store; or NULL */
  msvc_user_t *user_slots; /* nslots, or NULL */
  chunk_t *chunks;         /* the arena's own chunks, newest first */
  char *spare;             /* the arena's first room: the block's tail */
  size_t spare_left;
  int posts_in_arena; /* the post slots' strings are the arena's */
  int users_in_arena; /* the user slots' strings are the arena's */
  char cursor[MSVC__CURSOR_SIZE];
} page_block_t;

static page_block_t *block_of(msvc_post_page_t *page) {
  return (page_block_t *)page; /* page is the first member */
}

msvc_post_page_t *msvc__page_new(void) {
  page_block_t *b = calloc(1, sizeof(*b));
  if (b == NULL)
    return NULL;
  b->page.next_cursor = b->cursor;
  return &b->page;
}

/* The block: three pointer arrays (posts, authors, user slots), the post
 * and user slots, then `spare` bytes of arena, in one allocation (one
 * large request is also one malloc_consolidate, not two).  Every page has
 * user slots: a store reads authors into them, or a resolver does. */
static int block_alloc(page_block_t *b, size_t n, size_t spare,
                       msvc_user_t *const **users) {
  msvc_post_page_t *page = &b->page;
  size_t per = sizeof(msvc_post_t) + sizeof(msvc_user_t) + 3 * sizeof(void *);
  size_t fixed;
  char *mem;
  if (n == 0 || n > (SIZE_MAX / 4) / per || spare > SIZE_MAX / 4 ||
      b->nslots != 0)
    return MSVC_EINVAL;
  /* pointers first: every struct here is pointer-aligned */
  fixed = n * per;
  mem = malloc(fixed + spare);
  if (mem == NULL)
    return MSVC_ENOMEM;
  memset(mem, 0, fixed); /* the spare room is written before it is read */
  page->posts = (msvc_post_t **)(void *)mem;
  page->authors = (msvc_user_t **)(void *)(page->posts + n);
  b->user_ptrs = page->authors + n;
  b->post_slots = (msvc_post_t *)(void *)(mem + 3 * n * sizeof(void *));
  b->user_slots = (msvc_user_t *)(void *)(b->post_slots + n);
  b->nslots = n;
  b->spare = spare > 0 ? mem + fixed : NULL;
  b->spare_left = spare;
  for (size_t i = 0; i < n; i++) {
    page->posts[i] = &b->post_slots[i];
    b->user_ptrs[i] = &b->user_slots[i];
  }
  if (users != NULL)
    *users = b->user_ptrs;
  return 0;
}

int msvc__page_alloc(msvc_post_page_t *page, size_t n,
                     msvc_user_t *const **users) {
  return block_alloc(block_of(page), n, 0, users);
}

void msvc__page_set_cursor(msvc_post_page_t *page, const char *cursor) {
  msvc__strlcpy(block_of(page)->cursor, cursor, MSVC__CURSOR_SIZE);
}

void msvc__page_truncate(msvc_post_page_t *page, size_t count) {
  page_block_t *b = block_of(page);
  for (size_t i = count; i < b->nslots; i++) {
    if (!b->posts_in_arena)
      msvc__post_reset(page->posts[i]);
    page->posts[i] = NULL;
  }
  page->count = count;
}

void msvc_post_page_free(msvc_post_page_t *page) {
  page_block_t *b = block_of(page);
  if (page == NULL)
    return;
  for (size_t i = 0; i < b->nslots; i++) {
    if (!b->posts_in_arena)
      msvc__post_reset(&b->post_slots[i]);
    if (!b->users_in_arena)
      msvc__user_reset(&b->user_slots[i]);
  }
  while (b->chunks != NULL) {
    chunk_t *next = b->chunks->next;
    free(b->chunks);
    b->chunks = next;
  }
  free(page->posts); /* the block: arrays and slots */
  free(b);
}

/* ---- the arena ---------------------------------------------------------- */

/* n bytes of the page's arena (no alignment: strings only), or NULL: the
 * block's spare room first, then chunks of their own. */
static char *arena_take(page_block_t *b, size_t n) {
  chunk_t *c = b->chunks;
  char *p;
  if (c == NULL && n <= b->spare_left) {
    p = b->spare;
    b->spare += n;
    b->spare_left -= n;
    return p;
  }
  if (c == NULL || c->cap - c->used < n) {
    size_t cap =
        n > CHUNK_BYTES - sizeof(chunk_t) ? n : CHUNK_BYTES - sizeof(chunk_t);
    if (n > SIZE_MAX - sizeof(chunk_t) ||
        (c = malloc(sizeof(*c) + cap)) == NULL)
      return NULL;
    c->next = b->chunks;
    c->used = 0;
    c->cap = cap;
    b->chunks = c;
  }
  p = c->data + c->used;
  c->used += n;
  return p;
}

/* ---- the sink ----------------------------------------------------------- */

void msvc__page_sink_slots(msvc_page_sink_t *sink, msvc_post_t *const *posts,
                           msvc_user_t *const *authors, size_t cap) {
  memset(sink, 0, sizeof(*sink));
  sink->posts = posts;
  sink->authors = authors;
  sink->cap = cap;
}

int msvc__page_sink_page(msvc_page_sink_t *sink, msvc_post_page_t *page,
                         size_t n, int no_authors) {
  msvc_user_t *const *users = NULL;
  int rc =
      block_alloc(block_of(page), n,
                  n * (no_authors ? SPARE_PER_POST : SPARE_PER_ROW), &users);
  if (rc != 0)
    return rc;
  /* without authors, the user slots are left for a resolver */
  msvc__page_sink_slots(sink, page->posts, no_authors ? NULL : users, n);
  sink->page = page;
  sink->no_authors = no_authors;
  block_of(page)->posts_in_arena = 1;
  block_of(page)->users_in_arena = !no_authors;
  return 0;
}

msvc_user_t *const *msvc__page_user_slots(msvc_post_page_t *page) {
  return block_of(page)->user_ptrs;
}

int msvc_page_sink_wants_authors(const msvc_page_sink_t *sink) {
  return sink != NULL && !sink->no_authors;
}

/* An id of exactly 24 hex digits (no NUL needed after them), else "".
 * strnlen stops at a NUL, so a shorter string is never read past its
 * end. */
static void copy_id(char out[MSVC_ID_SIZE], const char *id) {
  int ok = id != NULL && strnlen(id, MSVC_ID_LEN) == MSVC_ID_LEN &&
           msvc__hex_digits(id, MSVC_ID_LEN);
  if (ok)
    memcpy(out, id, MSVC_ID_LEN);
  out[ok ? MSVC_ID_LEN : 0] = '\0';
}

/* A counted string at *at as a NUL-terminated copy; returns what follows. */
static char *put_text(char *at, const char *s, size_t n, char **out) {
  if (n > 0)
    memcpy(at, s, n);
  at[n] = '\0';
  *out = at;
  return at + n + 1;
}

/* A borrowed string's length: 0 for NULL. */
static size_t text_len(const char *s, size_t n) {
  return s != NULL ? n : 0;
}

/* The row's strings (its author's too when u is not NULL) in one carve of
 * the arena. */
static int arena_texts(page_block_t *b, const msvc_page_row_t *r,
                       msvc_post_t *p, msvc_user_t *u) {
  size_t tl = text_len(r->title, r->title_len);
  size_t cl = text_len(r->content, r->content_len);
  size_t nl = u != NULL ? text_len(r->author_name, r->author_name_len) : 0;
  size_t el = u != NULL ? text_len(r->author_email, r->author_email_len) : 0;
  char *at;
  if (tl > SIZE_MAX / 8 || cl > SIZE_MAX / 8 || nl > SIZE_MAX / 8 ||
      el > SIZE_MAX / 8)
    return MSVC_ENOMEM;
  at = arena_take(b, tl + cl + nl + el + 4);
  if (at == NULL)
    return MSVC_ENOMEM;
  at = put_text(at, r->title, tl, &p->title);
  at = put_text(at, r->content, cl, &p->content);
  if (u != NULL) {
    at = put_text(at, r->author_name, nl, &u->name);
    put_text(at, r->author_email, el, &u->email);
  }
  return 0;
}

/* A counted string as its own malloc'd copy. */
static int dup_text(const char *s, size_t n, char **out) {
  *out = msvc__strndup(s != NULL ? s : "", text_len(s, n));
  return *out != NULL ? 0 : MSVC_ENOMEM;
}

static int malloc_texts(const msvc_page_row_t *r, msvc_post_t *p,
                        msvc_user_t *u) {
  int rc = dup_text(r->title, r->title_len, &p->title);
  if (rc == 0)
    rc = dup_text(r->content, r->content_len, &p->content);
  if (rc == 0 && u != NULL)
    rc = dup_text(r->author_name, r->author_name_len, &u->name);
  if (rc == 0 && u != NULL)
    rc = dup_text(r->author_email, r->author_email_len, &u->email);
  return rc;
}

int msvc_page_sink_add(msvc_page_sink_t *sink, const msvc_page_row_t *row) {
  msvc_post_t *p;
  msvc_user_t *u;
  int rc;
  if (sink == NULL || row == NULL || sink->count >= sink->cap ||
      row->size < offsetof(msvc_page_row_t, author_updated_at) +
                      sizeof(row->author_updated_at))
    return MSVC_EINVAL;
  p = sink->posts[sink->count];
  /* u NULL: no author, or none wanted (there may be no slot for one) */
  u = row->has_author && !sink->no_authors ? sink->authors[sink->count] : NULL;
  rc = sink->page != NULL ? arena_texts(block_of(sink->page), row, p, u)
                          : malloc_texts(row, p, u);
  if (rc != 0)
    return rc;
  copy_id(p->id, row->id);
  copy_id(p->user_id, row->user_id);
  p->created_at = row->created_at;
  p->updated_at = row->updated_at;
  if (u != NULL) {
    memcpy(u->id, p->user_id, MSVC_ID_SIZE);
    u->created_at = row->author_created_at;
    u->updated_at = row->author_updated_at;
  }
  sink->count++;
  return 0;
}
