/* Links msvc::http: the HTTP resolver's functions are reachable. */
#include <stdio.h>

#include <msvc.h>
#include <msvc/http_resolver.h>

int main(void) {
  msvc_resolver_strategy_t s;
  if (msvc_resolver_strategy_parse("batch", &s) != 0 ||
      s != MSVC_RESOLVER_BATCH)
    return 1;
  printf("consumer: msvc::http linked\n");
  return 0;
}
