;;; gdm-lsp-mode.el --- gdm, the AI coding agent in a language server, with lsp-mode  -*- lexical-binding: t; -*-

;; Usage (lsp-mode 8+, Emacs 28+):
;;   (add-to-list 'load-path "/path/to/gdm/editors/emacs")
;;   (setq gdm-settings '(:model "openai/gpt-4.1"))   ; gdm's settings, see README "Settings"
;;   (require 'gdm-lsp-mode)
;;   M-x lsp in a Python buffer (gdm runs as an add-on beside your usual server).
;;
;; Ask: a comment `# gdm: <instruction>' and `lsp-execute-code-action' on it (pick
;; "gdm: <instruction>"), or pick "Ask gdm…" (it asks for the prompt), or M-x gdm-ask.  Review: the code lenses above each pending hunk
;; ("✓ Accept", "✗ Reject", the risk; click them, or `lsp-avy-lens'), or code actions on the
;; changed lines.  Progress shows in lsp-mode's mode-line spinner ($/progress, with the cost
;; so far); the mode line shows the cost ("gdm $0.0123 day $0.4500 1 pending").

;;; Code:

(require 'cl-lib)
(require 'lsp-mode)
(require 'gdm-core)

(lsp-register-client
 (make-lsp-client
  :new-connection (lsp-stdio-connection (lambda () gdm-server-command))
  :major-modes gdm-major-modes
  :server-id 'gdm
  :add-on? t
  :priority -2
  :initialization-options (lambda () gdm-settings)
  :notification-handlers
  (ht ("gdm/costUpdate" (lambda (_workspace params) (gdm-note-cost params)))
      ("gdm/patchProposed" (lambda (_workspace params) (gdm-note-patch params)))
      ("gdm/taskEvent" (lambda (_workspace params) (gdm-note-task-event params))))))

(cl-defmethod lsp-execute-command ((_server (eql gdm)) (_command (eql gdm.ask)) arguments)
  "Run gdm.ask from a code action, asking for the prompt when it has none (\"Ask gdm…\")."
  (let ((result (lsp-workspace-command-execute "gdm.ask" (vector (gdm-with-prompt (aref arguments 0))))))
    (gdm-note-asked (gdm--get result :taskId))
    result))

(defun gdm-ask (prompt &optional beg end)
  "Ask gdm PROMPT about the region (BEG to END) or the current line."
  (interactive (append (list (read-string "Ask gdm: "))
                       (when (use-region-p) (list (region-beginning) (region-end)))))
  (let* ((payload (gdm-ask-payload prompt (lsp--buffer-uri) beg end))
         (result (lsp-workspace-command-execute "gdm.ask" (vector payload))))
    (gdm-note-asked (gdm--get result :taskId))
    result))

(setq gdm-send-ask-function (lambda (payload) (lsp-workspace-command-execute "gdm.ask" (vector payload))))
(setq gdm-buffer-uri-function #'lsp--buffer-uri)

(defcustom gdm-inline-completions t
  "Non-nil: gdm's inline completions (ghost text) in lsp-mode buffers, when lsp-mode has them.
lsp-mode 9.0.1+ ships `lsp-inline-completion-mode' (accept with `lsp-inline-completion-accept'
in `lsp-inline-completion-active-map'); lsp-mode 8 (Debian 12's) has none, and this does nothing."
  :type 'boolean
  :group 'gdm)

(when (and gdm-inline-completions (require 'lsp-inline-completion nil t))
  (add-hook 'lsp-managed-mode-hook #'lsp-inline-completion-mode))

(provide 'gdm-lsp-mode)
;;; gdm-lsp-mode.el ends here
