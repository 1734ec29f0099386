/**
 * Every Windows script parses under PowerShell 7 with zero errors, uses no syntax Windows
 * PowerShell 5.1 lacks, is ASCII (5.1 reads a BOM-less file as ANSI), and carries what the
 * bundle's scripts promise: comment-based help, strict mode, stop on errors, a -DryRun switch.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runPwshCommand, SCRIPTS } from "./pwsh.js";

const scripts = readdirSync(SCRIPTS).filter((name) => name.endsWith(".ps1"));
const entryPoints = scripts.filter((name) => name !== "TeamsMediaBot.Common.ps1");

interface ScriptReport {
  name: string;
  errors: string[];
  ps7Only: string[];
  synopsis: string;
  parameters: string[];
}

describe("the bundle's PowerShell scripts", () => {
  it("are the three the bundle promises, plus their shared helpers", () => {
    expect(scripts.sort()).toEqual([
      "Install-TeamsMediaBot.ps1",
      "TeamsMediaBot.Common.ps1",
      "Test-TeamsMediaBot.ps1",
      "Uninstall-TeamsMediaBot.ps1",
    ]);
  });

  it("parse with zero errors, without PowerShell 7-only syntax, with help and a -DryRun switch", async () => {
    // One pwsh for all files: the parser's errors, 7-only AST nodes (?:, ??, ??=, &&, ||), help, parameters.
    const command = `
      $ErrorActionPreference = 'Stop'
      $out = foreach ($file in Get-ChildItem -LiteralPath '${SCRIPTS}' -Filter *.ps1) {
        $tokens = $null; $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($file.FullName, [ref]$tokens, [ref]$errors)
        $ps7 = $ast.FindAll({ param($n)
          $n -is [System.Management.Automation.Language.TernaryExpressionAst] -or
          $n -is [System.Management.Automation.Language.PipelineChainAst] -or
          ($n -is [System.Management.Automation.Language.BinaryExpressionAst] -and $n.Operator -eq 'QuestionQuestion') -or
          ($n -is [System.Management.Automation.Language.AssignmentStatementAst] -and $n.Operator -eq 'QuestionQuestionEquals') -or
          ($n -is [System.Management.Automation.Language.MemberExpressionAst] -and $n.NullConditional)
        }, $true)
        $help = $ast.GetHelpContent()
        [pscustomobject]@{
          name = $file.Name
          errors = @($errors | ForEach-Object { "$($_.Extent.StartLineNumber): $($_.Message)" })
          ps7Only = @($ps7 | ForEach-Object { "$($_.Extent.StartLineNumber): $($_.Extent.Text)" })
          synopsis = if ($help) { [string]$help.Synopsis } else { '' }
          parameters = @(if ($ast.ParamBlock) { $ast.ParamBlock.Parameters | ForEach-Object { $_.Name.VariablePath.UserPath } })
        }
      }
      ConvertTo-Json -InputObject @($out) -Depth 4 -Compress`;
    const run = await runPwshCommand(command);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const reports = JSON.parse(run.stdout) as ScriptReport[];
    expect(reports.map((r) => r.name).sort()).toEqual([...scripts].sort());
    for (const report of reports) {
      expect(report.errors, report.name).toEqual([]);
      expect(report.ps7Only, report.name).toEqual([]);
      expect(report.synopsis.length, `${report.name} has a .SYNOPSIS`).toBeGreaterThan(10);
      if (entryPoints.includes(report.name)) expect(report.parameters, report.name).toContain("DryRun");
    }
  });

  it("are ASCII, strict and stop on the first error", () => {
    for (const name of scripts) {
      const text = readFileSync(path.join(SCRIPTS, name), "utf8");
      const nonAscii = [...text].filter((c) => c.charCodeAt(0) > 0x7e);
      expect(nonAscii, `${name} is ASCII`).toEqual([]);
      expect(text, name).toContain("Set-StrictMode -Version Latest");
      expect(text, name).toContain("$ErrorActionPreference = 'Stop'");
      // ConvertFrom-Json -AsHashtable and ForEach-Object -Parallel do not exist in 5.1.
      expect(text, name).not.toMatch(/-AsHashtable|-Parallel\b/);
      // 5.1's -Encoding UTF8 writes a BOM, which the bot's JSON.parse refuses: Write-TmbUtf8File instead.
      expect(text, name).not.toMatch(/(Set-Content|Out-File|Add-Content)[^\n]*-Encoding\s+UTF8/i);
    }
  });
});
