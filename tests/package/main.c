/* Links msvc::msvc: the header and the library found are the same version. */
#include <stdio.h>
#include <string.h>

#include <msvc.h>

int main(void) {
  if (strcmp(msvc_version_string(), MSVC_VERSION_STRING) != 0) {
    fprintf(stderr, "header %s, library %s\n", MSVC_VERSION_STRING,
            msvc_version_string());
    return 1;
  }
  printf("consumer: libmsvc %s\n", msvc_version_string());
  return 0;
}
