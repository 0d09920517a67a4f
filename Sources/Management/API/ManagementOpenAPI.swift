/// The OpenAPI 3.1 document of `ManagementAPI` (served at `/v2/openapi.json`).
/// Request bodies also take `annotations`, whose rules it does not state;
/// the schemas describe them in words and leave them out of the properties, so
/// that generated requests (schemathesis) stay within what the server accepts.
public enum ManagementOpenAPI {
    public static let json: String = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "fnrt management API",
    "version": "2.0.0",
    "description": "The Fn Project's v2 API for apps, functions and triggers, as served by fnrt."
  },
  "paths": {
    "/v2/apps": {
      "get": {
        "operationId": "ListApps",
        "tags": [
          "Apps"
        ],
        "summary": "List apps in name order",
        "parameters": [
          {
            "$ref": "#/components/parameters/cursor"
          },
          {
            "$ref": "#/components/parameters/perPage"
          },
          {
            "$ref": "#/components/parameters/nameQuery"
          }
        ],
        "responses": {
          "200": {
            "description": "A page of apps.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/AppList"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          }
        }
      },
      "post": {
        "operationId": "CreateApp",
        "tags": [
          "Apps"
        ],
        "summary": "Create a app",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/AppCreate"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The new app.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/App"
                }
              }
            },
            "links": {
              "GetApp": {
                "operationId": "GetApp",
                "parameters": {
                  "appID": "$response.body#/id"
                }
              },
              "UpdateApp": {
                "operationId": "UpdateApp",
                "parameters": {
                  "appID": "$response.body#/id"
                }
              },
              "DeleteApp": {
                "operationId": "DeleteApp",
                "parameters": {
                  "appID": "$response.body#/id"
                }
              },
              "ListFns": {
                "operationId": "ListFns",
                "parameters": {
                  "app_id": "$response.body#/id"
                }
              },
              "ListTriggers": {
                "operationId": "ListTriggers",
                "parameters": {
                  "app_id": "$response.body#/id"
                }
              },
              "CreateFn": {
                "operationId": "CreateFn",
                "requestBody": {
                  "name": "fn",
                  "app_id": "$response.body#/id",
                  "image": "localhost:5000/fn:1"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/v2/apps/{appID}": {
      "parameters": [
        {
          "$ref": "#/components/parameters/appID"
        }
      ],
      "get": {
        "operationId": "GetApp",
        "tags": [
          "Apps"
        ],
        "summary": "Get a app",
        "responses": {
          "200": {
            "description": "The app.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/App"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "put": {
        "operationId": "UpdateApp",
        "tags": [
          "Apps"
        ],
        "summary": "Update a app (maps merge)",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/AppUpdate"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The updated app.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/App"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      },
      "delete": {
        "operationId": "DeleteApp",
        "tags": [
          "Apps"
        ],
        "summary": "Delete an app with its functions and triggers",
        "responses": {
          "204": {
            "description": "Deleted."
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/v2/fns": {
      "get": {
        "operationId": "ListFns",
        "tags": [
          "Fns"
        ],
        "summary": "List functions in name order",
        "parameters": [
          {
            "$ref": "#/components/parameters/appIDQuery"
          },
          {
            "$ref": "#/components/parameters/nameQuery"
          },
          {
            "$ref": "#/components/parameters/cursor"
          },
          {
            "$ref": "#/components/parameters/perPage"
          }
        ],
        "responses": {
          "200": {
            "description": "A page of functions.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/FnList"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          }
        }
      },
      "post": {
        "operationId": "CreateFn",
        "tags": [
          "Fns"
        ],
        "summary": "Create a function",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/FnCreate"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The new function.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Fn"
                }
              }
            },
            "links": {
              "GetFn": {
                "operationId": "GetFn",
                "parameters": {
                  "fnID": "$response.body#/id"
                }
              },
              "UpdateFn": {
                "operationId": "UpdateFn",
                "parameters": {
                  "fnID": "$response.body#/id"
                }
              },
              "DeleteFn": {
                "operationId": "DeleteFn",
                "parameters": {
                  "fnID": "$response.body#/id"
                }
              },
              "ListTriggers": {
                "operationId": "ListTriggers",
                "parameters": {
                  "app_id": "$response.body#/app_id",
                  "fn_id": "$response.body#/id"
                }
              },
              "CreateTrigger": {
                "operationId": "CreateTrigger",
                "requestBody": {
                  "name": "trigger",
                  "app_id": "$response.body#/app_id",
                  "fn_id": "$response.body#/id",
                  "type": "http",
                  "source": "/trigger"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/v2/fns/{fnID}": {
      "parameters": [
        {
          "$ref": "#/components/parameters/fnID"
        }
      ],
      "get": {
        "operationId": "GetFn",
        "tags": [
          "Fns"
        ],
        "summary": "Get a function",
        "responses": {
          "200": {
            "description": "The function.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Fn"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "put": {
        "operationId": "UpdateFn",
        "tags": [
          "Fns"
        ],
        "summary": "Update a function (maps merge)",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/FnUpdate"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The updated function.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Fn"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "delete": {
        "operationId": "DeleteFn",
        "tags": [
          "Fns"
        ],
        "summary": "Delete a function with its triggers",
        "responses": {
          "204": {
            "description": "Deleted."
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/v2/triggers": {
      "get": {
        "operationId": "ListTriggers",
        "tags": [
          "Triggers"
        ],
        "summary": "List triggers in name order",
        "parameters": [
          {
            "$ref": "#/components/parameters/appIDQuery"
          },
          {
            "$ref": "#/components/parameters/fnIDQuery"
          },
          {
            "$ref": "#/components/parameters/nameQuery"
          },
          {
            "$ref": "#/components/parameters/cursor"
          },
          {
            "$ref": "#/components/parameters/perPage"
          }
        ],
        "responses": {
          "200": {
            "description": "A page of triggers.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TriggerList"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          }
        }
      },
      "post": {
        "operationId": "CreateTrigger",
        "tags": [
          "Triggers"
        ],
        "summary": "Create a trigger",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/TriggerCreate"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The new trigger.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Trigger"
                }
              }
            },
            "links": {
              "GetTrigger": {
                "operationId": "GetTrigger",
                "parameters": {
                  "triggerID": "$response.body#/id"
                }
              },
              "UpdateTrigger": {
                "operationId": "UpdateTrigger",
                "parameters": {
                  "triggerID": "$response.body#/id"
                }
              },
              "DeleteTrigger": {
                "operationId": "DeleteTrigger",
                "parameters": {
                  "triggerID": "$response.body#/id"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      }
    },
    "/v2/triggers/{triggerID}": {
      "parameters": [
        {
          "$ref": "#/components/parameters/triggerID"
        }
      ],
      "get": {
        "operationId": "GetTrigger",
        "tags": [
          "Triggers"
        ],
        "summary": "Get a trigger",
        "responses": {
          "200": {
            "description": "The trigger.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Trigger"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "put": {
        "operationId": "UpdateTrigger",
        "tags": [
          "Triggers"
        ],
        "summary": "Update a trigger (maps merge)",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/TriggerUpdate"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The updated trigger.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Trigger"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          }
        }
      },
      "delete": {
        "operationId": "DeleteTrigger",
        "tags": [
          "Triggers"
        ],
        "summary": "Delete a trigger",
        "responses": {
          "204": {
            "description": "Deleted."
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    }
  },
  "components": {
    "schemas": {
      "Error": {
        "type": "object",
        "required": [
          "message"
        ],
        "properties": {
          "message": {
            "type": "string"
          }
        }
      },
      "App": {
        "type": "object",
        "required": [
          "id",
          "name",
          "config",
          "annotations",
          "shape",
          "created_at",
          "updated_at"
        ],
        "properties": {
          "id": {
            "type": "string",
            "readOnly": true
          },
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[A-Za-z0-9_-]+$"
          },
          "config": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            }
          },
          "annotations": {
            "type": "object",
            "additionalProperties": {},
            "description": "Annotations: keys of 1-128 printable non-space ASCII characters, values any JSON (at most 512 bytes serialized)."
          },
          "syslog_url": {
            "type": "string"
          },
          "shape": {
            "type": "string",
            "enum": [
              "GENERIC_X86",
              "GENERIC_ARM",
              "GENERIC_X86_ARM"
            ]
          },
          "created_at": {
            "type": "string",
            "format": "date-time",
            "readOnly": true,
            "description": "RFC 3339, UTC, milliseconds."
          },
          "updated_at": {
            "type": "string",
            "format": "date-time",
            "readOnly": true,
            "description": "RFC 3339, UTC, milliseconds."
          }
        }
      },
      "AppCreate": {
        "type": "object",
        "required": [
          "name"
        ],
        "description": "Also accepted: annotations, an object of Fn's rules, described here and not in the schema (at most 100 keys of 1-128 printable non-space ASCII characters, values any JSON but \"\" and null, at most 512 bytes serialized); 400 otherwise.",
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[A-Za-z0-9_-]+$"
          },
          "config": {
            "$ref": "#/components/schemas/ConfigInput",
            "description": "Keys are the function's environment variable names: non-empty, without \"=\" or NUL; values have no NUL (400 otherwise)."
          },
          "syslog_url": {
            "type": [
              "string",
              "null"
            ],
            "pattern": "^$|^(udp|tcp|unix|unixgram|tcp\\+tls)://[^,]+(, *(udp|tcp|unix|unixgram|tcp\\+tls)://[^,]+)*$",
            "description": "Comma-separated syslog URLs; \"\" is none."
          },
          "shape": {
            "type": [
              "string",
              "null"
            ],
            "enum": [
              "GENERIC_X86",
              "GENERIC_ARM",
              "GENERIC_X86_ARM",
              "",
              null
            ],
            "description": "Default GENERIC_X86."
          }
        }
      },
      "AppUpdate": {
        "type": "object",
        "description": "name and shape may be given only unchanged (409 otherwise). Also accepted: annotations, merged into the existing ones, where a key whose value is \"\" or null is removed; the result follows Fn's rules (at most 100 keys of 1-128 printable non-space ASCII characters, values any JSON but \"\" and null, at most 512 bytes serialized); 400 otherwise.",
        "properties": {
          "config": {
            "$ref": "#/components/schemas/ConfigInput",
            "description": "Merged into the existing configuration; a key whose value is empty (or null) is removed. Keys are the function's environment variable names: non-empty, without \"=\" or NUL; values have no NUL (400 otherwise)."
          },
          "syslog_url": {
            "type": [
              "string",
              "null"
            ],
            "pattern": "^$|^(udp|tcp|unix|unixgram|tcp\\+tls)://[^,]+(, *(udp|tcp|unix|unixgram|tcp\\+tls)://[^,]+)*$",
            "description": "\"\" removes it."
          }
        }
      },
      "AppList": {
        "type": "object",
        "required": [
          "items"
        ],
        "properties": {
          "items": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/App"
            }
          },
          "next_cursor": {
            "type": "string",
            "description": "Absent on the last page."
          }
        }
      },
      "Fn": {
        "type": "object",
        "required": [
          "id",
          "name",
          "app_id",
          "image",
          "memory",
          "timeout",
          "idle_timeout",
          "config",
          "annotations",
          "created_at",
          "updated_at"
        ],
        "properties": {
          "id": {
            "type": "string",
            "readOnly": true
          },
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[A-Za-z0-9_-]+$"
          },
          "app_id": {
            "type": "string"
          },
          "image": {
            "type": "string"
          },
          "memory": {
            "type": "integer",
            "minimum": 1,
            "maximum": 8192,
            "description": "Memory limit in MB (default 128)."
          },
          "timeout": {
            "type": "integer",
            "minimum": 1,
            "maximum": 300,
            "description": "Longest call in seconds (default 30)."
          },
          "idle_timeout": {
            "type": "integer",
            "minimum": 1,
            "maximum": 3600,
            "description": "Seconds a hot container waits for the next call (default 30)."
          },
          "config": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            }
          },
          "annotations": {
            "type": "object",
            "additionalProperties": {},
            "description": "Annotations: keys of 1-128 printable non-space ASCII characters, values any JSON (at most 512 bytes serialized)."
          },
          "created_at": {
            "type": "string",
            "format": "date-time",
            "readOnly": true,
            "description": "RFC 3339, UTC, milliseconds."
          },
          "updated_at": {
            "type": "string",
            "format": "date-time",
            "readOnly": true,
            "description": "RFC 3339, UTC, milliseconds."
          }
        }
      },
      "FnCreate": {
        "type": "object",
        "required": [
          "name",
          "app_id",
          "image"
        ],
        "description": "Also accepted: annotations, an object of Fn's rules, described here and not in the schema (at most 100 keys of 1-128 printable non-space ASCII characters, values any JSON but \"\" and null, at most 512 bytes serialized); 400 otherwise. fnrt.io/provisioned_concurrency (fnrt): a whole number from 0 to 100 of containers kept hot at all times; 400 otherwise.",
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[A-Za-z0-9_-]+$"
          },
          "app_id": {
            "type": "string",
            "minLength": 1
          },
          "image": {
            "type": "string",
            "minLength": 1
          },
          "memory": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 0,
            "maximum": 8192,
            "description": "Memory limit in MB (default 128). 0 or absent: the default (create) or unchanged (update)."
          },
          "timeout": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 0,
            "maximum": 300,
            "description": "Longest call in seconds (default 30). 0 or absent: the default or unchanged."
          },
          "idle_timeout": {
            "$ref": "#/components/schemas/IdleTimeoutInput",
            "description": "Seconds a hot container waits for the next call (default 30). 0 or absent: the default or unchanged. \"auto\" (fnrt): the adaptive keep-alive learns the function's idle times (annotation fnrt.io/idle_timeout), the integer in use until it has."
          },
          "config": {
            "$ref": "#/components/schemas/ConfigInput",
            "description": "Keys are the function's environment variable names: non-empty, without \"=\" or NUL; values have no NUL (400 otherwise)."
          }
        }
      },
      "FnUpdate": {
        "type": "object",
        "description": "name and app_id may be given only unchanged (400 otherwise). Also accepted: annotations, merged into the existing ones, where a key whose value is \"\" or null is removed; the result follows Fn's rules (at most 100 keys of 1-128 printable non-space ASCII characters, values any JSON but \"\" and null, at most 512 bytes serialized); 400 otherwise. fnrt.io/provisioned_concurrency (fnrt): a whole number from 0 to 100 of containers kept hot at all times; 400 otherwise.",
        "properties": {
          "image": {
            "type": [
              "string",
              "null"
            ],
            "description": "\"\" or absent: unchanged."
          },
          "memory": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 0,
            "maximum": 8192,
            "description": "Memory limit in MB (default 128). 0 or absent: the default (create) or unchanged (update)."
          },
          "timeout": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 0,
            "maximum": 300,
            "description": "Longest call in seconds (default 30). 0 or absent: the default or unchanged."
          },
          "idle_timeout": {
            "$ref": "#/components/schemas/IdleTimeoutInput",
            "description": "Seconds a hot container waits for the next call (default 30). 0 or absent: the default or unchanged. \"auto\" (fnrt): the adaptive keep-alive learns the function's idle times (annotation fnrt.io/idle_timeout), the integer in use until it has."
          },
          "config": {
            "$ref": "#/components/schemas/ConfigInput",
            "description": "Merged into the existing configuration; a key whose value is empty (or null) is removed. Keys are the function's environment variable names: non-empty, without \"=\" or NUL; values have no NUL (400 otherwise)."
          }
        }
      },
      "FnList": {
        "type": "object",
        "required": [
          "items"
        ],
        "properties": {
          "items": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Fn"
            }
          },
          "next_cursor": {
            "type": "string",
            "description": "Absent on the last page."
          }
        }
      },
      "Trigger": {
        "type": "object",
        "required": [
          "id",
          "name",
          "app_id",
          "fn_id",
          "type",
          "source",
          "annotations",
          "created_at",
          "updated_at"
        ],
        "properties": {
          "id": {
            "type": "string",
            "readOnly": true
          },
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[A-Za-z0-9_-]+$"
          },
          "app_id": {
            "type": "string"
          },
          "fn_id": {
            "type": "string"
          },
          "type": {
            "type": "string",
            "enum": [
              "http"
            ]
          },
          "source": {
            "type": "string"
          },
          "annotations": {
            "type": "object",
            "additionalProperties": {},
            "description": "Annotations: keys of 1-128 printable non-space ASCII characters, values any JSON (at most 512 bytes serialized)."
          },
          "created_at": {
            "type": "string",
            "format": "date-time",
            "readOnly": true,
            "description": "RFC 3339, UTC, milliseconds."
          },
          "updated_at": {
            "type": "string",
            "format": "date-time",
            "readOnly": true,
            "description": "RFC 3339, UTC, milliseconds."
          }
        }
      },
      "TriggerCreate": {
        "type": "object",
        "required": [
          "name",
          "app_id",
          "fn_id",
          "type",
          "source"
        ],
        "description": "Also accepted: annotations, an object of Fn's rules, described here and not in the schema (at most 100 keys of 1-128 printable non-space ASCII characters, values any JSON but \"\" and null, at most 512 bytes serialized); 400 otherwise.",
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[A-Za-z0-9_-]+$"
          },
          "app_id": {
            "type": "string",
            "minLength": 1
          },
          "fn_id": {
            "type": "string",
            "minLength": 1,
            "description": "A function of the same app (404 otherwise)."
          },
          "type": {
            "type": "string",
            "enum": [
              "http"
            ]
          },
          "source": {
            "type": "string",
            "minLength": 1,
            "maxLength": 1024,
            "pattern": "^/[^\\u0000-\\u0020\\u007f?#]*$",
            "description": "The path under /t/{app name}, starting with '/'; unique within the app."
          }
        }
      },
      "TriggerUpdate": {
        "type": "object",
        "description": "app_id may be given only unchanged (400 otherwise). Also accepted: annotations, merged into the existing ones, where a key whose value is \"\" or null is removed; the result follows Fn's rules (at most 100 keys of 1-128 printable non-space ASCII characters, values any JSON but \"\" and null, at most 512 bytes serialized); 400 otherwise.",
        "properties": {
          "name": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 255,
            "pattern": "^$|^[A-Za-z0-9_-]+$",
            "description": "\"\" or absent: unchanged."
          },
          "fn_id": {
            "type": [
              "string",
              "null"
            ],
            "description": "A function of the same app (404 otherwise); \"\" or absent: unchanged."
          },
          "type": {
            "type": [
              "string",
              "null"
            ],
            "enum": [
              "http",
              "",
              null
            ],
            "description": "\"\" or absent: unchanged."
          },
          "source": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 1024,
            "pattern": "^$|^/[^\\u0000-\\u0020\\u007f?#]*$",
            "description": "The path under /t/{app name}, starting with '/'; unique within the app; \"\" or absent: unchanged."
          }
        }
      },
      "TriggerList": {
        "type": "object",
        "required": [
          "items"
        ],
        "properties": {
          "items": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Trigger"
            }
          },
          "next_cursor": {
            "type": "string",
            "description": "Absent on the last page."
          }
        }
      },
      "ConfigInput": {
        "type": [
          "object",
          "null"
        ],
        "propertyNames": {
          "pattern": "^[^=\\u0000]+$"
        },
        "additionalProperties": {
          "type": [
            "string",
            "null"
          ],
          "pattern": "^[^\\u0000]*$"
        }
      },
      "IdleTimeoutInput": {
        "oneOf": [
          {
            "type": "integer",
            "minimum": 0,
            "maximum": 3600
          },
          {
            "type": "string",
            "enum": [
              "auto"
            ]
          },
          {
            "type": "null"
          }
        ]
      }
    },
    "responses": {
      "BadRequest": {
        "description": "Invalid JSON, or a missing or invalid field or parameter (the message names it).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "NotFound": {
        "description": "No such resource.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Conflict": {
        "description": "The name (or trigger source) is taken in its scope, or an immutable field was changed.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    },
    "parameters": {
      "cursor": {
        "name": "cursor",
        "in": "query",
        "required": false,
        "description": "next_cursor of the previous page.",
        "schema": {
          "type": "string",
          "pattern": "^[A-Za-z0-9_-]*$"
        }
      },
      "perPage": {
        "name": "per_page",
        "in": "query",
        "required": false,
        "description": "Page size: default 30, larger than 100 is taken as 100.",
        "schema": {
          "type": "integer",
          "minimum": 1
        }
      },
      "appIDQuery": {
        "name": "app_id",
        "in": "query",
        "required": true,
        "schema": {
          "type": "string",
          "minLength": 1
        }
      },
      "fnIDQuery": {
        "name": "fn_id",
        "in": "query",
        "required": false,
        "schema": {
          "type": "string"
        }
      },
      "nameQuery": {
        "name": "name",
        "in": "query",
        "required": false,
        "description": "Only the item with this name.",
        "schema": {
          "type": "string"
        }
      },
      "appID": {
        "name": "appID",
        "in": "path",
        "required": true,
        "schema": {
          "type": "string"
        }
      },
      "fnID": {
        "name": "fnID",
        "in": "path",
        "required": true,
        "schema": {
          "type": "string"
        }
      },
      "triggerID": {
        "name": "triggerID",
        "in": "path",
        "required": true,
        "schema": {
          "type": "string"
        }
      }
    }
  }
}
"""#
}
