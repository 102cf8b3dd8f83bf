;;; gdm-core.el --- what gdm-eglot.el and gdm-lsp-mode.el share  -*- lexical-binding: t; -*-

;; The settings, the state gdm's notifications keep (cost, patches, tasks) and the mode-line
;; segment.  Loaded by gdm-eglot.el or gdm-lsp-mode.el; not used alone.

;;; Code:

(require 'cl-lib)
(require 'subr-x)

(defgroup gdm nil "gdm, the AI coding agent in a language server." :group 'tools)

(defcustom gdm-server-command '("gdm-lsp")
  "The command that starts gdm's language server on stdio."
  :type '(repeat string))

(defcustom gdm-settings nil
  "gdm's settings as a plist, sent as initializationOptions and as the `gdm' section of
workspace/configuration, e.g. (:model \"openai/gpt-4.1\" :taskBudgetUsd 1.0)."
  :type 'plist)

(defcustom gdm-major-modes '(python-mode js-mode typescript-mode c-mode c++-mode go-mode rust-mode sh-mode)
  "Major modes whose buffers eglot connects to gdm."
  :type '(repeat symbol))

(defvar gdm--cost nil "The last gdm/costUpdate, a plist.")
(defvar gdm--patches (make-hash-table :test #'equal) "Patches by id, as gdm/patchProposed told them.")
(defvar gdm--tasks (make-hash-table :test #'equal) "Task id -> running, done, error, cancelled, budget.")
(defvar gdm--last-task nil "The id of the last task this Emacs started: what `gdm-follow-up' continues.")
(defvar gdm-send-ask-function nil
  "How the client sends a gdm.ask payload and returns the result (set by gdm-eglot.el or gdm-lsp-mode.el).")
(defvar gdm-buffer-uri-function nil "The client's URI of the current buffer (set like `gdm-send-ask-function').")

;; The handlers of both clients give plists (eglot) or hash tables (lsp-mode): read either.
(defun gdm--get (params key)
  "KEY (a keyword) of PARAMS, a plist or a hash table with string keys."
  (if (hash-table-p params)
      (gethash (substring (symbol-name key) 1) params)
    (plist-get params key)))

(defun gdm-with-prompt (payload)
  "PAYLOAD of a gdm.ask code action, with a prompt: \"Ask gdm…\" carries none, so ask for it
(ready-made actions such as \"gdm: <instruction>\" already have theirs)."
  (let ((prompt (gdm--get payload :prompt)))
    (if (and prompt (not (string-empty-p prompt)))
        payload
      (let ((text (read-string "Ask gdm: ")))
        (when (string-empty-p text) (user-error "gdm: no prompt, nothing asked"))
        (if (hash-table-p payload)
            (progn (puthash "prompt" text payload) payload)
          (plist-put (copy-sequence payload) :prompt text))))))

(defun gdm-note-cost (params)
  "Keep a gdm/costUpdate for the mode line."
  (setq gdm--cost params)
  (force-mode-line-update t))

(defun gdm-note-patch (params)
  "Keep a gdm/patchProposed (sent again when its status changes)."
  (puthash (gdm--get params :patchId) params gdm--patches)
  (force-mode-line-update t))

(defun gdm-note-task-event (params)
  "Note when a task ends (gdm/taskEvent of kind done)."
  (when (equal (gdm--get params :kind) "done")
    (puthash (gdm--get params :taskId) (gdm--get params :status) gdm--tasks)
    (force-mode-line-update t)))

(defun gdm-note-asked (task-id)
  "A task was started by this Emacs."
  (puthash task-id "running" gdm--tasks)
  (setq gdm--last-task task-id)
  (message "gdm: asked (task %s)" task-id))

(defun gdm-ask-payload (prompt uri &optional beg end)
  "The gdm.ask payload: PROMPT about URI's lines from BEG to END (default: the current line)."
  (let ((first (1- (line-number-at-pos (or beg (point)))))
        (last (line-number-at-pos (or end (point)))))
    `(:prompt ,prompt :uri ,uri
      :range (:start (:line ,first :character 0) :end (:line ,last :character 0)))))

(defun gdm-follow-up (prompt &optional beg end)
  "Continue gdm's last task with PROMPT about the region (BEG to END) or the current line: a
follow-up in the same conversation (gdm.ask with followUp), which sees the earlier messages and
extends the changes still pending review."
  (interactive (append (list (read-string "Follow up on gdm's last task: "))
                       (when (use-region-p) (list (region-beginning) (region-end)))))
  (unless gdm--last-task (user-error "gdm: no task to follow up yet (M-x gdm-ask first)"))
  (when (string-empty-p prompt) (user-error "gdm: no prompt, nothing asked"))
  (let* ((payload (append (gdm-ask-payload prompt (funcall gdm-buffer-uri-function) beg end)
                          (list :followUp gdm--last-task)))
         (result (funcall gdm-send-ask-function payload)))
    (gdm-note-asked (gdm--get result :taskId))
    result))

(defun gdm-pending ()
  "The patches waiting for review."
  (let (out)
    (maphash (lambda (_id patch)
               (when (member (gdm--get patch :status) '("pending" "partial")) (push patch out)))
             gdm--patches)
    out))

(defun gdm-mode-line ()
  "The mode-line segment: \" gdm $0.0123 day $0.4500 1 pending\" (empty before any cost)."
  (let ((pending (length (gdm-pending))))
    (if (and (null gdm--cost) (zerop pending))
        ""
      (concat " gdm"
              (when gdm--cost
                (format " $%.4f day $%.4f" (or (gdm--get gdm--cost :taskUsd) 0)
                        (or (gdm--get gdm--cost :dayUsd) 0)))
              (when (cl-some (lambda (s) (equal s "running")) (hash-table-values gdm--tasks)) " working")
              (unless (zerop pending) (format " %d pending" pending))))))

(add-to-list 'mode-line-misc-info '(:eval (gdm-mode-line)) t)

(provide 'gdm-core)
;;; gdm-core.el ends here
