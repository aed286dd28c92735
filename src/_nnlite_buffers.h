/*
 * What both C extensions of nnlite need to read a buffer's element type.
 */
#ifndef NNLITE_BUFFERS_H
#define NNLITE_BUFFERS_H

#include <Python.h>

/* The one-character struct code of a buffer's elements in native byte order ('d',
 * 'f', ...); '?' for anything longer (byte-swapped, structured). */
static char
format_code(const Py_buffer *view)
{
    const char *f = view->format;
    if (f == NULL)
        return 'B';
    if (*f == '@' || *f == '=')
        f++;
    return (f[0] != '\0' && f[1] == '\0') ? f[0] : '?';
}

#endif
