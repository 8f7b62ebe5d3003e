/* Links msvc::mongo: the MongoDB backend's table is reachable. */
#include <stdio.h>

#include <msvc.h>
#include <msvc/mongo.h>

int main(void) {
  if (msvc_store_mongo() == NULL)
    return 1;
  printf("consumer: msvc::mongo linked\n");
  return 0;
}
